"""The export service's use cases: keep its copies of the registry and submissions, open
exports (at a round's close, on request, as deltas for corrections), build and deliver them,
reconcile with the PMO system, and tell intake where each export stands.

Building and delivering commit every step as it is done, so a process that dies (or loses
its lease) leaves the export where another, or itself after a restart, continues: from the
first batch the PMO system has not acknowledged, with the same bytes under the same
Idempotency-Keys.
"""

import asyncio
import logging
import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from services.export.adapters import repository
from services.export.adapters.evidence import EvidenceSource
from services.export.adapters.files import write_dataset
from services.export.adapters.pmo import EvidenceMismatch, PmoClient, PmoError
from services.export.domain import batches as batching
from services.export.domain import dataset, evidence
from services.export.domain.dataset import ExportRecord
from services.export.domain.exports import (
    EVIDENCE_COUNTS,
    Export,
    acknowledged_counts,
    evidence_acknowledged,
)
from services.export.metrics import ExportMetrics, Timings
from shared.events import (
    CenterRegistered,
    Envelope,
    ExportRequested,
    ExportStatus,
    RoundClosed,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.messaging.outbox import enqueue
from shared.object_storage import ObjectNotFound, ObjectStorageUnavailable
from shared.retry import RetryPolicy
from shared.topics import Topic

log = logging.getLogger(__name__)
SERVICE = "export"


async def keep_submissions(
    conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
) -> None:
    """Keep each submission version for the round's dataset (lateness, version count); a
    version of a round already exported makes a delta due."""
    # A batch in one statement: a round's burst brings 1,343 of these within seconds.
    await repository.record_received_many(conn, [e.data for e in events])


async def keep_scores(
    conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionScored]]
) -> None:
    """Keep the scores and verdict of each submission version for the round's dataset."""
    await repository.record_scored_many(conn, [e.data for e in events])


async def keep_center(conn: asyncpg.Connection, event: Envelope[CenterRegistered]) -> None:
    """Keep the registry: every certified center is a record of each round's dataset."""
    await repository.record_center(conn, event.data)


async def export_closed_round(conn: asyncpg.Connection, event: Envelope[RoundClosed]) -> None:
    """A round closed: its full export, once however often the event comes."""
    export_id = await repository.create_export(conn, event.data.round_id, "full", "round_closed")
    if export_id is not None:
        await announce(conn, export_id)


async def export_on_request(conn: asyncpg.Connection, event: Envelope[ExportRequested]) -> None:
    """An operator asked for the round's export now: a full one, once per request."""
    request = event.data
    export_id = await repository.create_export(
        conn, request.round_id, "full", "operator", request.request_id
    )
    if export_id is not None:
        await announce(conn, export_id)


async def open_corrections(pool: asyncpg.Pool, quiet_seconds: float) -> None:
    """A delta export for each round whose records changed after it was exported, once the
    changes have been quiet for ``quiet_seconds``: if any record's content differs."""
    async with pool.acquire() as conn, conn.transaction():
        for round_id, changed in await repository.rounds_changed_since_export(conn, quiet_seconds):
            await repository.checked_through(conn, round_id, changed)
            delta = dataset.delta(
                await repository.exported_fingerprints(conn, round_id),
                await round_records(conn, round_id),
            )
            if not delta:
                continue
            export_id = await repository.create_export(conn, round_id, "delta", "correction")
            assert export_id is not None
            await announce(conn, export_id)
            log.info("round %s: %d changed, delta %s", round_id, len(delta), export_id)


async def round_records(conn: asyncpg.Connection, round_id: str) -> list[ExportRecord]:
    """The round's dataset as it stands: one record per center."""
    centers = await repository.registered_centers(conn)
    latest = await repository.latest_versions(conn, round_id)
    return dataset.build_records(round_id, centers, latest)


async def build(
    export: Export,
    pool: asyncpg.Pool,
    exports_dir: Path,
    batch_size: int,
    metrics: ExportMetrics,
    timings: Timings,
) -> Export:
    """Fix a pending export's content: its records (a delta's: those changed since the PMO
    system acknowledged them), its files, its batches with their exact bytes and each
    record's fingerprint; stored in one transaction, the export then delivering."""
    started = time.perf_counter()
    export_id, round_id = str(export.id), export.round_id
    async with pool.acquire() as conn:
        with timings.part("records"):
            records = await round_records(conn, round_id)
        if export.kind == "delta":
            exported = await repository.exported_fingerprints(conn, round_id)
            records = dataset.delta(exported, records)
    directory = exports_dir / round_id / export_id
    with timings.part("files"):
        manifest = await asyncio.to_thread(
            write_dataset, directory, round_id, export_id, records, datetime.now(UTC)
        )
    batches = batching.split(export_id, records, batch_size)
    with timings.part("bodies"):
        calls = batching.calls(export_id, round_id, export.kind, batches)
    with timings.part("fingerprints"):
        fingerprints = [(r.center_id, dataset.fingerprint(r)) for r in records]
    counts = dataset.counts(records)
    # The package holds the files of the export's records: a delta's are those of its records,
    # and only those the receiver has not verified before travel (send_evidence_file).
    package = evidence.package((r.center_id, r.evidence) for r in records)
    counts |= evidence.package_counts(package)
    evidence_call = evidence.manifest_body(export_id, round_id, package)
    closing = batching.manifest_body(
        export_id, round_id, export.kind, batches, counts, manifest.hashes()
    )
    built = export.built(len(records), counts, len(calls), closing, str(directory), evidence_call)
    async with pool.acquire() as conn, conn.transaction():
        with timings.part("save"):
            await repository.save_built(
                conn, built, manifest.to_json(), calls, fingerprints, package
            )
        await announce(conn, built.id)
    metrics.build_seconds.observe(time.perf_counter() - started)
    log.info(
        "export %s of %s built: %d records, %d batches (%s)",
        export_id,
        round_id,
        built.records,
        built.batches,
        timings,
    )
    return built


async def deliver(
    export: Export,
    pool: asyncpg.Pool,
    pmo: PmoClient,
    source: EvidenceSource,
    policy: RetryPolicy,
    metrics: ExportMetrics,
    timings: Timings,
    lease_seconds: float = 60.0,
) -> Export:
    """Send each batch the PMO system has not acknowledged (each acknowledgement committed at
    once), then the evidence package (its files, then its manifest), then the manifest, and
    reconcile the answers; a failure counts an attempt."""
    closing = export.manifest_call
    assert closing is not None, "only a built export is delivered"
    async with pool.acquire() as conn:
        with timings.part("read"):
            unsent = await repository.unacked_batches(conn, export.id)
    try:
        for batch in unsent:
            with timings.part("post"):
                answer = await pmo.send_batch(
                    export.round_id, batch.number, batch.idempotency_key, batch.body
                )
            async with pool.acquire() as conn:
                with timings.part("ack"):
                    await repository.ack_batch(conn, export.id, batch.number)
            export = export.batch_acknowledged()
            outcome = "duplicate" if answer.get("duplicate") else "acknowledged"
            metrics.batches.labels(outcome).inc()
        evidence_answer: dict[str, int] = {}
        if export.evidence_manifest_call is not None:
            with timings.part("evidence"):
                evidence_answer = await deliver_evidence(export, pool, pmo, source, lease_seconds)
        with timings.part("manifest"):
            acknowledged = await pmo.send_manifest(
                export.round_id, batching.manifest_key(str(export.id)), closing
            )
    except PmoError as error:
        return await record_failure(export, error, pool, policy, metrics)
    except ObjectStorageUnavailable as error:
        unavailable = PmoError(f"object storage: {error}", temporary=True)
        return await record_failure(export, unavailable, pool, policy, metrics)
    async with pool.acquire() as conn:
        refused = await repository.evidence_refusals(conn, export.id)
    note = "; ".join(f"evidence {sha}: {why}" for sha, why in refused) or None
    done = await reconcile(export, acknowledged | evidence_answer, pool, metrics, note)
    log.info(
        "export %s of %s delivered: %s (ours %s, theirs %s; %s)",
        done.id,
        done.round_id,
        done.state,
        done.counts,
        done.acknowledged,
        timings,
    )
    return done


async def record_failure(
    export: Export,
    error: PmoError,
    pool: asyncpg.Pool,
    policy: RetryPolicy,
    metrics: ExportMetrics,
) -> Export:
    """Transient failures are retried without end (the wait capped); a refusal is final."""
    failed = export.attempt_failed(str(error), final=not error.temporary)
    retry_at = None
    if error.temporary:
        retry_at = datetime.now(UTC) + policy.delay(failed.attempts, random.random())
    metrics.batches.labels("retried" if error.temporary else "failed").inc()
    log.warning("export %s attempt %d failed: %s", export.id, failed.attempts, error)
    async with pool.acquire() as conn, conn.transaction():
        await repository.attempt_failed(conn, export.id, str(error), retry_at)
        await announce(conn, export.id)
    return failed


async def deliver_evidence(
    export: Export,
    pool: asyncpg.Pool,
    pmo: PmoClient,
    source: EvidenceSource,
    lease_seconds: float,
) -> dict[str, int]:
    """Each file of the package the receiver has not verified, then the package's manifest;
    answer the receiver's counts of verified files and bytes.

    A file goes in parts, only those the receiver lacks; the receiver then assembles it and
    checks its SHA-256. A mismatch (or an object of another size) does not hold up the other
    files; it is tried again at the next attempt, from the first part, up to
    ``MISMATCH_TRIES`` times in all, then given up on, like a file object storage does not
    have: the export ends as ``mismatch`` naming them. Each file verified renews the
    export's lease: a package of many files takes longer than one lease."""
    assert export.evidence_manifest_call is not None
    async with pool.acquire() as conn:
        files = await repository.evidence_to_send(conn, export.id)
    again: list[str] = []  # files to send again at the next attempt
    for file in files:
        try:
            await send_evidence_file(export.round_id, file, pmo, source)
        except ObjectNotFound:
            async with pool.acquire() as conn:
                reason = "not in object storage"
                await repository.evidence_refused(conn, export.id, file.sha256, reason)
            log.error("export %s: evidence %s is not in object storage", export.id, file.sha256)
            continue
        except EvidenceMismatch as error:
            async with pool.acquire() as conn:
                tries = await repository.evidence_mismatch(conn, export.id, file.sha256)
                if tries < evidence.MISMATCH_TRIES:
                    again.append(f"evidence {file.sha256} (try {tries}): {error}")
                    continue
                reason = f"SHA-256 refused by the receiver {tries} times: {error}"
                await repository.evidence_refused(conn, export.id, file.sha256, reason)
            log.error("export %s: evidence %s given up on: %s", export.id, file.sha256, error)
            continue
        async with pool.acquire() as conn:
            await repository.evidence_delivered(conn, export.id, file.sha256, lease_seconds)
    if again:  # the other files went on; these go again at the next attempt
        raise EvidenceMismatch("; ".join(again))
    answer = await pmo.send_evidence_manifest(
        export.round_id, f"{export.id}:evidence", export.evidence_manifest_call
    )
    return evidence_acknowledged(answer)


async def send_evidence_file(
    round_id: str, file: repository.EvidenceToSend, pmo: PmoClient, source: EvidenceSource
) -> None:
    """The parts the receiver lacks, each streamed from object storage twice (its SHA-256,
    which the signature covers, then its bytes), then the request to assemble and verify."""
    held, complete = await pmo.evidence_parts(round_id, file.sha256)
    if complete:
        return
    stored = await source.size(file.sha256)
    if stored != file.size:  # its parts could not be cut as declared: like a wrong hash
        raise EvidenceMismatch(f"object storage holds {stored} bytes, not {file.size}")
    for number in evidence.missing_parts(file.size, held):
        start, length = evidence.part_range(number, file.size)
        digest = await source.part_digest(file.sha256, start, length)
        chunks = source.part(file.sha256, start, length)
        await pmo.send_part(round_id, file.sha256, number, digest, length, chunks)
    await pmo.complete_evidence(round_id, file.sha256, file.size)


async def reconcile(
    export: Export,
    answer: Mapping[str, Any],
    pool: asyncpg.Pool,
    metrics: ExportMetrics,
    note: str | None = None,
) -> Export:
    """Delivered: reconciled, or a mismatch (alerted on) when the PMO system's counts differ
    (evidence files verified among them)."""
    evidence_counts = {k: int(v) for k, v in answer.items() if k in EVIDENCE_COUNTS}
    done = export.delivered(acknowledged_counts(answer) | evidence_counts, note)
    async with pool.acquire() as conn, conn.transaction():
        await repository.finish(conn, done.id, done.state, done.acknowledged, done.last_error)
        await announce(conn, done.id)
    reconciled = done.state == "reconciled"
    metrics.reconciliations.labels(done.state).inc()
    metrics.mismatch.labels(done.round_id).set(0 if reconciled else 1)
    if reconciled:
        metrics.last_success.set(time.time())
    return done


async def announce(conn: asyncpg.Connection, export_id: UUID) -> None:
    """Publish the export's current state (in the transaction that changed it)."""
    export = await repository.get_export(conn, export_id)
    status = ExportStatus(
        export_id=export.id,
        round_id=export.round_id,
        kind=export.kind,
        trigger=export.trigger,
        request_id=export.request_id,
        state=export.state,
        records=export.records,
        batches=export.batches,
        batches_acknowledged=export.batches_acknowledged,
        attempts=export.attempts,
        last_error=export.last_error,
        counts=export.counts,
        acknowledged=export.acknowledged,
        created_at=export.created_at,
        updated_at=export.updated_at,
    )
    await enqueue(conn, Topic.EXPORT_STATUS, str(export_id), new_event(status, SERVICE))
