import sys

from services.survey.app import create_app
from services.survey.settings import SurveySettings
from shared.service.process import run_service

sys.exit(run_service(SurveySettings(), create_app, sys.argv[1:]))
