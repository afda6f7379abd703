import sys

from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from shared.service.process import run_service

sys.exit(run_service(NotifierSettings(), create_app, sys.argv[1:]))
