import sys

from services.scoring.app import create_app
from services.scoring.settings import ScoringSettings
from shared.service.process import run_service

sys.exit(run_service(ScoringSettings(), create_app, sys.argv[1:]))
