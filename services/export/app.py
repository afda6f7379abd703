import httpx
from fastapi import FastAPI

from services.export.adapters.evidence import EvidenceSource
from services.export.adapters.pmo import PmoClient
from services.export.entrypoints import subscribers
from services.export.entrypoints.exporter import Exporter
from services.export.metrics import ExportMetrics
from services.export.settings import ExportSettings
from shared.messaging.runtime import ServiceRuntime
from shared.object_storage import ObjectStorage, ObjectStorageConfig
from shared.service.http import service_app


def build_runtime(settings: ExportSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    metrics = ExportMetrics(runtime.registry)
    subscribers.register(runtime)

    async def exporter(runtime: ServiceRuntime) -> None:
        async with (
            httpx.AsyncClient(timeout=settings.pmo_timeout_seconds) as client,
            ObjectStorage(ObjectStorageConfig.of(settings)) as storage,
        ):
            pmo = PmoClient(client, settings.pmo_url, settings.pmo_secret)
            source = EvidenceSource(storage)
            await Exporter(runtime.pool, pmo, source, settings, metrics).run()

    runtime.in_background("exporter", exporter)
    return runtime


def create_app(settings: ExportSettings) -> FastAPI:
    return service_app(
        build_runtime(settings),
        "GECC export",
        "Round datasets for OPS/PMO: files, signed batched delivery, reconciliation, deltas.",
    )
