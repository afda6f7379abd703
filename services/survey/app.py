from fastapi import FastAPI

from services.survey.entrypoints import tallier, tally_api
from services.survey.metrics import SurveyMetrics
from services.survey.settings import SurveySettings
from shared.messaging.runtime import ServiceRuntime
from shared.service.http import service_app
from shared.standards import load_catalog


def build_runtime(settings: SurveySettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    metrics = SurveyMetrics(runtime.registry)
    tallier.register(
        runtime, metrics, load_catalog(settings.standards_dir), settings.tallier_consumers
    )
    return runtime


def create_app(settings: SurveySettings) -> FastAPI:
    runtime = build_runtime(settings)
    app = service_app(
        runtime,
        "GECC survey",
        "The citizen survey: the public page citizens answer, and the tally of their answers.",
    )
    app.include_router(tally_api.router(runtime, settings))
    return app
