import sys

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.service.process import run_service

sys.exit(run_service(IntakeSettings(), create_app, sys.argv[1:]))
