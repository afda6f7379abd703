"""The exporter: opens the deltas that corrections make due, then takes the next due export
and carries it as far as it goes now (built, delivered, reconciled). Several export
processes may run it: a lease gives each export to one of them at a time."""

import asyncio
import logging

import asyncpg

from services.export import handlers
from services.export.adapters import repository
from services.export.adapters.evidence import EvidenceSource
from services.export.adapters.pmo import PmoClient
from services.export.metrics import ExportMetrics, Timings
from services.export.settings import ExportSettings
from shared.database import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)


class Exporter:
    def __init__(
        self,
        pool: asyncpg.Pool,
        pmo: PmoClient,
        source: EvidenceSource,
        settings: ExportSettings,
        metrics: ExportMetrics,
    ) -> None:
        self._pool = pool
        self._pmo = pmo
        self._source = source
        self._settings = settings
        self._policy = settings.retry_policy()
        self._metrics = metrics

    async def run(self) -> None:
        while True:
            try:
                await handlers.open_corrections(self._pool, self._settings.correction_quiet_seconds)
                worked = await self.work_once()
            except DATABASE_UNAVAILABLE as error:
                log.warning("exporter: database unavailable (%s); trying again", error)
                worked = False
            if not worked:
                await asyncio.sleep(self._settings.poll_seconds)

    async def work_once(self) -> bool:
        """Take the next due export and carry it as far as it goes now; False if none."""
        settings = self._settings
        async with self._pool.acquire() as conn:
            export = await repository.claim_export(conn, settings.lease_seconds)
        if export is None:
            return False
        if export.state == "pending":
            export = await handlers.build(
                export,
                self._pool,
                settings.exports_dir,
                settings.batch_size,
                self._metrics,
                Timings(),
            )
        await handlers.deliver(
            export,
            self._pool,
            self._pmo,
            self._source,
            self._policy,
            self._metrics,
            Timings(),
            settings.lease_seconds,
        )
        return True
