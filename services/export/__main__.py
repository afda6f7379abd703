import sys

from services.export.app import create_app
from services.export.settings import ExportSettings
from shared.service.process import run_service

sys.exit(run_service(ExportSettings(), create_app, sys.argv[1:]))
