"""The exporter: builds each export (records, files, batches) and delivers it to the PMO
system batch by batch, then reconciles the counts the PMO system acknowledges.

Every step is committed as it is done, so a process that dies (or loses its lease) leaves the
export where another, or itself after a restart, continues: from the first batch the PMO
system has not acknowledged, with the same bytes under the same Idempotency-Keys.
"""

import asyncio
import logging
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.export import handlers
from services.export.adapters import repository
from services.export.adapters.pmo import PmoClient, PmoError
from services.export.domain import batches as batching
from services.export.domain import dataset
from services.export.domain.dataset import ExportRecord, LatestVersion, RegisteredCenter
from services.export.domain.files import write_dataset
from services.export.metrics import ExportMetrics
from shared.database import DATABASE_UNAVAILABLE
from shared.retry import RetryPolicy

log = logging.getLogger(__name__)
STATUS_KEYS = ("on_time", "late", "missing")


class Exporter:
    def __init__(
        self,
        pool: asyncpg.Pool,
        pmo: PmoClient,
        directory: Path,
        policy: RetryPolicy,
        metrics: ExportMetrics,
        *,
        batch_size: int = batching.BATCH_SIZE,
        lease_seconds: float = 60.0,
        poll_seconds: float = 0.5,
        correction_quiet_seconds: float = 5.0,
    ) -> None:
        self._pool = pool
        self._pmo = pmo
        self._directory = directory
        self._policy = policy
        self._metrics = metrics
        self._batch_size = batch_size
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._quiet = correction_quiet_seconds

    async def run(self) -> None:
        while True:
            try:
                await self.open_corrections()
                worked = await self.work_once()
            except DATABASE_UNAVAILABLE as error:
                log.warning("exporter: database unavailable (%s); trying again", error)
                worked = False
            if not worked:
                await asyncio.sleep(self._poll)

    async def work_once(self) -> bool:
        """Take the next due export and carry it as far as it goes now; False if none."""
        async with self._pool.acquire() as conn:
            export = await repository.claim_export(conn, self._lease)
        if export is None:
            return False
        if export["state"] == "pending":
            export = await self.build(export)
        await self.deliver(export)
        return True

    async def open_corrections(self) -> None:
        """A delta export for each round whose records changed after it was exported."""
        async with self._pool.acquire() as conn, conn.transaction():
            for round_id, changed in await repository.rounds_changed_since_export(
                conn, self._quiet
            ):
                await repository.checked_through(conn, round_id, changed)
                delta = dataset.delta(
                    await repository.exported_fingerprints(conn, round_id),
                    await self.records(conn, round_id),
                )
                if not delta:
                    continue
                export_id = await repository.create_export(conn, round_id, "delta", "correction")
                assert export_id is not None
                await handlers.announce(conn, export_id)
                log.info("round %s: %d changed, delta %s", round_id, len(delta), export_id)

    async def records(self, conn: asyncpg.Connection, round_id: str) -> list[ExportRecord]:
        centers = [RegisteredCenter(**dict(r)) for r in await repository.registered_centers(conn)]
        latest = [
            LatestVersion(**dict(r)) for r in await repository.latest_versions(conn, round_id)
        ]
        return dataset.build_records(round_id, centers, latest)

    async def build(self, export: asyncpg.Record) -> asyncpg.Record:
        started = time.perf_counter()
        export_id, round_id, kind = export["id"], export["round_id"], export["kind"]
        async with self._pool.acquire() as conn:
            records = await self.records(conn, round_id)
            if kind == "delta":
                records = dataset.delta(
                    await repository.exported_fingerprints(conn, round_id), records
                )
        directory = self._directory / round_id / str(export_id)
        manifest = await asyncio.to_thread(
            write_dataset, directory, round_id, str(export_id), records, datetime.now(UTC)
        )
        split = batching.split(str(export_id), records, self._batch_size)
        counts = {**dict.fromkeys(STATUS_KEYS, 0), **dataset.counts(records)}
        files = {f.name: f.sha256 for f in manifest.files}
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.save_built(
                conn,
                export_id,
                records=len(records),
                counts=counts,
                manifest=manifest.to_json(),
                manifest_call=batching.manifest_body(
                    str(export_id), round_id, kind, split, counts, files
                ),
                directory=str(directory),
                batches=[
                    (
                        b.number,
                        b.idempotency_key,
                        len(b.records),
                        batching.batch_body(str(export_id), round_id, kind, b),
                    )
                    for b in split
                ],
                fingerprints=[(r.center_id, dataset.fingerprint(r)) for r in records],
            )
            await handlers.announce(conn, export_id)
            built = await repository.get_export(conn, export_id)
        self._metrics.build_seconds.observe(time.perf_counter() - started)
        log.info(
            "export %s of %s built: %d records, %d batches",
            export_id,
            round_id,
            len(records),
            len(split),
        )
        return built

    async def deliver(self, export: asyncpg.Record) -> None:
        export_id, round_id = export["id"], export["round_id"]
        async with self._pool.acquire() as conn:
            pending = await repository.unacked_batches(conn, export_id)
        try:
            for batch in pending:
                answer = await self._pmo.send_batch(
                    round_id, batch["number"], batch["idempotency_key"], bytes(batch["body"])
                )
                async with self._pool.acquire() as conn:
                    await repository.ack_batch(conn, export_id, batch["number"])
                self._metrics.batches.labels(
                    "duplicate" if answer.get("duplicate") else "acknowledged"
                ).inc()
            acknowledged = await self._pmo.send_manifest(
                round_id, f"{export_id}:manifest", bytes(export["manifest_call"])
            )
        except PmoError as error:
            await self.failed(export, error)
            return
        await self.reconcile(export, acknowledged)

    async def failed(self, export: asyncpg.Record, error: PmoError) -> None:
        attempt = export["attempts"] + 1
        # Transient failures are retried without end (the wait capped); a refusal is final.
        retry_at = None
        if error.temporary:
            retry_at = datetime.now(UTC) + self._policy.delay(attempt, random.random())
        self._metrics.batches.labels("retried" if error.temporary else "failed").inc()
        log.warning("export %s attempt %d failed: %s", export["id"], attempt, error)
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.attempt_failed(conn, export["id"], str(error), retry_at)
            await handlers.announce(conn, export["id"])

    async def reconcile(self, export: asyncpg.Record, answer: dict[str, Any]) -> None:
        """Reconciled when the PMO system holds every batch and exactly our counts."""
        async with self._pool.acquire() as conn:
            export = await repository.get_export(conn, export["id"])
        ours: dict[str, int] = export["counts"]
        theirs = {
            "batches": int(answer.get("batches_received", -1)),
            "records": int(answer.get("records_received", -1)),
            **{k: int(v) for k, v in dict(answer.get("records_by_status", {})).items()},
        }
        matches = (
            theirs["batches"] == export["batches"]
            and theirs["records"] == export["records"]
            and all(theirs.get(k, 0) == ours.get(k, 0) for k in STATUS_KEYS)
        )
        state = "reconciled" if matches else "mismatch"
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.finish(conn, export["id"], state, theirs)
            await handlers.announce(conn, export["id"])
        self._metrics.reconciliations.labels(state).inc()
        self._metrics.mismatch.labels(export["round_id"]).set(0 if matches else 1)
        if matches:
            self._metrics.last_success.set(time.time())
        log.info(
            "export %s of %s delivered: %s (ours %s, theirs %s)",
            export["id"],
            export["round_id"],
            state,
            ours,
            theirs,
        )
