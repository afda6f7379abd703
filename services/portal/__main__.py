import sys

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from shared.service.process import run_service

sys.exit(run_service(PortalSettings(), create_app, sys.argv[1:]))
