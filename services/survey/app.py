from fastapi import FastAPI

from services.survey.metrics import SurveyMetrics
from services.survey.settings import SurveySettings
from shared.messaging.runtime import ServiceRuntime
from shared.service.http import service_app


def build_runtime(settings: SurveySettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    SurveyMetrics(runtime.registry)
    return runtime


def create_app(settings: SurveySettings) -> FastAPI:
    return service_app(
        build_runtime(settings),
        "GECC survey",
        "The citizen survey: the public page citizens answer, and the tally of their answers.",
    )
