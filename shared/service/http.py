"""A service's HTTP app: it starts and stops the service's runtime with the server and serves
``/health`` (503 while the database is unreachable; Kafka shown as ok, connecting or
unreachable) and ``/metrics`` (Prometheus) beside the service's own routes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.messaging.runtime import ServiceRuntime


def service_app(
    runtime: ServiceRuntime,
    title: str,
    description: str = "",
    app_class: type[FastAPI] = FastAPI,
) -> FastAPI:
    """``app_class``: a FastAPI subclass, for a service answering some paths before the
    framework (the survey's public page)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = app_class(title=title, description=description, lifespan=lifespan)

    @app.get("/health", tags=["operations"], summary="Liveness and readiness")
    async def health(response: Response) -> dict[str, Any]:
        healthy, checks = await health_of(runtime)
        response.status_code = 200 if healthy else 503
        status = "ok" if healthy else "unavailable"
        return {"service": runtime.name, "status": status, **checks}

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
    )
    async def metrics() -> Response:
        return Response(generate_latest(runtime.exposition), media_type=CONTENT_TYPE_LATEST)

    return app


async def health_of(runtime: ServiceRuntime) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2):
            await runtime.pool.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
    if runtime.messaging:
        checks["kafka"] = await _kafka_state(runtime)
    for name, check in runtime.checks.items():
        checks[name] = check()
    return checks["database"] == "ok", checks


async def _kafka_state(runtime: ServiceRuntime) -> str:
    if not runtime.kafka_connected:
        return "connecting"
    return "ok" if await runtime.broker.ping(timeout=1.0) else "unreachable"
