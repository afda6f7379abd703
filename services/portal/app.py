from fastapi import FastAPI

from services.portal.metrics import PortalMetrics
from services.portal.settings import PortalSettings
from shared.messaging.runtime import ServiceRuntime
from shared.service.http import service_app


def build_runtime(settings: PortalSettings) -> ServiceRuntime:
    return ServiceRuntime(settings, messaging=False)


def create_app(settings: PortalSettings) -> FastAPI:
    runtime = build_runtime(settings)
    app = service_app(
        runtime,
        "GECC portal",
        "The web pages center staff, parent offices and operators use (Thai first).",
    )
    app.state.runtime = runtime
    app.state.metrics = PortalMetrics(runtime.registry)
    return app
