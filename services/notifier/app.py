from fastapi import FastAPI

from services.notifier.entrypoints import subscribers
from services.notifier.settings import NotifierSettings
from shared.messaging.runtime import ServiceRuntime


def build_runtime(settings: NotifierSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    subscribers.register(runtime)
    return runtime


def create_app(settings: NotifierSettings) -> FastAPI:
    return build_runtime(settings).fastapi_app("GECC notifier")
