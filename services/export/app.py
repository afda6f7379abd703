from fastapi import FastAPI

from services.export.entrypoints import subscribers
from services.export.settings import ExportSettings
from shared.messaging.runtime import ServiceRuntime


def build_runtime(settings: ExportSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    subscribers.register(runtime)
    return runtime


def create_app(settings: ExportSettings) -> FastAPI:
    return build_runtime(settings).fastapi_app("GECC export")
