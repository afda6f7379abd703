from fastapi import FastAPI

from services.scoring.entrypoints import subscribers
from services.scoring.settings import ScoringSettings
from shared.messaging.runtime import ServiceRuntime
from shared.service.http import service_app
from shared.standards import load_catalog


def build_runtime(settings: ScoringSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    subscribers.register(runtime, load_catalog(settings.standards_dir))
    return runtime


def create_app(settings: ScoringSettings) -> FastAPI:
    return service_app(build_runtime(settings), "GECC scoring")
