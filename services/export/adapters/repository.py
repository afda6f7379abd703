"""All of the export service's SQL: its copies of the registry and submissions, and the
exports with their batches. Rows leave here as the domain's dataclasses."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.export.domain.batches import BatchCall
from services.export.domain.dataset import LatestVersion, RegisteredCenter
from services.export.domain.evidence import PackageFile
from services.export.domain.exports import Export
from shared.events import CenterRegistered, SubmissionReceived, SubmissionScored


@dataclass(frozen=True)
class EvidenceToSend:
    sha256: str
    size: int
    content_type: str
    mismatches: int


async def record_received_many(
    conn: asyncpg.Connection, received: Sequence[SubmissionReceived]
) -> None:
    """Keep versions as received, in one statement (the last of one version counts), with
    their evidence files (none from a version-1 event) and where their satisfaction figures
    come from (the center's own survey from a version-1 or -2 event)."""
    rows = {(r.submission_id, r.version): r for r in received}.values()
    await conn.execute(
        """
        INSERT INTO submission_versions (submission_id, version, center_id, round_id,
                                         received_at, late, receipt_number, evidence,
                                         satisfaction_source, survey_responses)
        SELECT submission_id, version, center_id, round_id, received_at, late,
               receipt_number, evidence::jsonb, satisfaction_source, survey_responses
        FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[],
                    $6::bool[], $7::text[], $8::text[], $9::text[], $10::int[])
            AS r (submission_id, version, center_id, round_id, received_at, late,
                  receipt_number, evidence, satisfaction_source, survey_responses)
        ON CONFLICT (submission_id, version) DO UPDATE
            SET received_at = excluded.received_at, late = excluded.late,
                receipt_number = excluded.receipt_number, evidence = excluded.evidence,
                satisfaction_source = excluded.satisfaction_source,
                survey_responses = excluded.survey_responses, changed_at = now()
        """,
        [r.submission_id for r in rows],
        [r.version for r in rows],
        [r.center_id for r in rows],
        [r.round_id for r in rows],
        [r.received_at for r in rows],
        [r.late for r in rows],
        [r.receipt_number for r in rows],
        [json.dumps([e.model_dump(mode="json") for e in r.evidence]) for r in rows],
        [r.satisfaction.source.kind for r in rows],
        [r.satisfaction.source.responses for r in rows],
    )


async def record_scored_many(conn: asyncpg.Connection, scored: Sequence[SubmissionScored]) -> None:
    """Keep each version's latest score, in one statement. Scored may overtake received
    (different topics): a version not there yet is inserted."""
    latest: dict[tuple[UUID, int], SubmissionScored] = {}
    for s in scored:
        kept = latest.get((s.submission_id, s.version))
        if kept is None or s.score_version > kept.score_version:
            latest[(s.submission_id, s.version)] = s
    rows = latest.values()
    await conn.execute(
        """
        INSERT INTO submission_versions (submission_id, version, center_id, round_id,
            satisfaction_percent, checklist_percent, verdict, reasons, scored_at, score_version)
        SELECT submission_id, version, center_id, round_id, satisfaction_percent,
               checklist_percent, verdict, reasons::jsonb, scored_at, score_version
        FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::float8[], $6::float8[],
                    $7::text[], $8::text[], $9::timestamptz[], $10::int[])
            AS s (submission_id, version, center_id, round_id, satisfaction_percent,
                  checklist_percent, verdict, reasons, scored_at, score_version)
        ON CONFLICT (submission_id, version) DO UPDATE SET
            satisfaction_percent = excluded.satisfaction_percent,
            checklist_percent = excluded.checklist_percent,
            verdict = excluded.verdict, reasons = excluded.reasons, scored_at = excluded.scored_at,
            score_version = excluded.score_version, changed_at = now()
        WHERE submission_versions.score_version IS NULL
           OR submission_versions.score_version < excluded.score_version
        """,
        [s.submission_id for s in rows],
        [s.version for s in rows],
        [s.center_id for s in rows],
        [s.round_id for s in rows],
        [s.satisfaction.overall_percent for s in rows],
        [s.checklist.overall_percent for s in rows],
        [s.verdict for s in rows],
        [json.dumps([r.model_dump(mode="json") for r in s.reasons]) for s in rows],
        [s.scored_at for s in rows],
        [s.score_version for s in rows],
    )


async def record_center(conn: asyncpg.Connection, center: CenterRegistered) -> None:
    await conn.execute(
        """
        INSERT INTO centers (id, name_th, name_en, office_path, province, certified_until)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET name_th = excluded.name_th, name_en = excluded.name_en,
            office_path = excluded.office_path, province = excluded.province,
            certified_until = excluded.certified_until, updated_at = now()
        """,
        center.center_id,
        center.name_th,
        center.name_en,
        center.office_path,
        center.province,
        center.certified_until,
    )


async def registered_centers(conn: asyncpg.Connection) -> list[RegisteredCenter]:
    rows = await conn.fetch(
        "SELECT id, name_th, name_en, office_path, province, certified_until FROM centers"
        " ORDER BY id"
    )
    return [RegisteredCenter(**dict(r)) for r in rows]


async def latest_versions(conn: asyncpg.Connection, round_id: str) -> list[LatestVersion]:
    """Each center's latest received version of the round, with how many it sent; ``late``
    when its first version was (the report's timeliness, as intake counts it: an amendment
    after the due date does not make an on-time report late)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (center_id) center_id, submission_id, version,
               count(*) OVER (PARTITION BY center_id) AS versions, receipt_number,
               received_at,
               first_value(late) OVER (PARTITION BY center_id ORDER BY version) AS late,
               verdict, satisfaction_percent::float8 AS satisfaction_percent,
               checklist_percent::float8 AS checklist_percent,
               coalesce(reasons, '[]'::jsonb) AS reasons, score_version,
               scored_at, evidence, satisfaction_source, survey_responses
        FROM submission_versions
        WHERE round_id = $1 AND received_at IS NOT NULL
        ORDER BY center_id, version DESC
        """,
        round_id,
    )
    return [LatestVersion(**dict(r)) for r in rows]


async def create_export(
    conn: asyncpg.Connection,
    round_id: str,
    kind: str,
    trigger: str,
    request_id: UUID | None = None,
) -> UUID | None:
    """A new export to build and deliver; None if this close or request has one already."""
    export_id: UUID | None = await conn.fetchval(
        "INSERT INTO exports (id, round_id, kind, trigger, request_id)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
        uuid4(),
        round_id,
        kind,
        trigger,
        request_id,
    )
    return export_id


EXPORT_COLUMNS = """id, round_id, kind, trigger, request_id, state, records, batches,
    batches_acked AS batches_acknowledged, attempts, last_error, counts, acknowledged,
    manifest_call, directory, created_at, updated_at, evidence_manifest_call"""


async def get_export(conn: asyncpg.Connection, export_id: UUID) -> Export:
    row = await conn.fetchrow(f"SELECT {EXPORT_COLUMNS} FROM exports WHERE id = $1", export_id)
    assert row is not None
    return Export(**dict(row))


async def claim_export(conn: asyncpg.Connection, lease_seconds: float) -> Export | None:
    """The oldest export that is due, leased to this process (another process, or this one
    after a crash, takes it over when the lease ends)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE exports SET leased_until = now() + make_interval(secs => $1)
        WHERE id = (SELECT id FROM exports
                    WHERE state IN ('pending', 'delivering') AND next_attempt_at <= now()
                      AND (leased_until IS NULL OR leased_until < now())
                    ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING {EXPORT_COLUMNS}
        """,
        lease_seconds,
    )
    return None if row is None else Export(**dict(row))


async def release(conn: asyncpg.Connection, export_id: UUID) -> None:
    await conn.execute("UPDATE exports SET leased_until = NULL WHERE id = $1", export_id)


async def save_built(
    conn: asyncpg.Connection,
    built: Export,
    manifest: dict[str, Any],
    batches: Sequence[BatchCall],
    fingerprints: Sequence[tuple[str, str]],
    evidence: Sequence[PackageFile] = (),
) -> None:
    """The built export (state delivering) with its batches, each record's fingerprint and
    its evidence package's files."""
    await conn.executemany(
        "INSERT INTO evidence_files (export_id, sha256, size, content_type)"
        " VALUES ($1, $2, $3, $4)",
        [(built.id, f.sha256, f.size, f.content_type) for f in evidence],
    )
    await conn.executemany(
        "INSERT INTO export_batches (export_id, number, idempotency_key, records, body)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(built.id, b.number, b.idempotency_key, b.records, b.body) for b in batches],
    )
    await conn.copy_records_to_table(
        "export_fingerprints",
        records=[(built.id, center, fingerprint) for center, fingerprint in fingerprints],
        columns=["export_id", "center_id", "fingerprint"],
    )
    await conn.execute(
        "UPDATE exports SET state = $2, records = $3, counts = $4, manifest = $5,"
        " directory = $6, batches = $7, manifest_call = $8, evidence_manifest_call = $9,"
        " updated_at = now() WHERE id = $1",
        built.id,
        built.state,
        built.records,
        built.counts,
        manifest,
        built.directory,
        built.batches,
        built.manifest_call,
        built.evidence_manifest_call,
    )


async def unacked_batches(conn: asyncpg.Connection, export_id: UUID) -> list[BatchCall]:
    rows = await conn.fetch(
        "SELECT number, idempotency_key, records, body FROM export_batches"
        " WHERE export_id = $1 AND acked_at IS NULL ORDER BY number",
        export_id,
    )
    return [BatchCall(r["number"], r["idempotency_key"], r["records"], r["body"]) for r in rows]


async def ack_batch(conn: asyncpg.Connection, export_id: UUID, number: int) -> None:
    await conn.execute(
        "UPDATE export_batches SET acked_at = now() WHERE export_id = $1 AND number = $2"
        " AND acked_at IS NULL",
        export_id,
        number,
    )
    await conn.execute(
        "UPDATE exports SET batches_acked = (SELECT count(*) FROM export_batches"
        " WHERE export_id = $1 AND acked_at IS NOT NULL), updated_at = now() WHERE id = $1",
        export_id,
    )


async def attempt_failed(
    conn: asyncpg.Connection, export_id: UUID, error: str, retry_at: datetime | None
) -> None:
    """Count a failed attempt; retry at ``retry_at``, or, without one, the export failed."""
    await conn.execute(
        "UPDATE exports SET attempts = attempts + 1, last_error = $2, leased_until = NULL,"
        " next_attempt_at = coalesce($3, next_attempt_at),"
        " state = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE state END,"
        " updated_at = now() WHERE id = $1",
        export_id,
        error,
        retry_at,
    )


async def finish(
    conn: asyncpg.Connection,
    export_id: UUID,
    state: str,
    acknowledged: dict[str, int],
    note: str | None = None,
) -> None:
    """Delivered: reconciled or mismatch (``note``: what did not match); what the PMO system
    now holds is remembered for the next delta."""
    row = await conn.fetchrow(
        "UPDATE exports SET state = $2, acknowledged = $3, leased_until = NULL,"
        " attempts = attempts + 1, last_error = $4, delivered_at = now(), updated_at = now()"
        " WHERE id = $1 RETURNING round_id",
        export_id,
        state,
        acknowledged,
        note,
    )
    assert row is not None
    await conn.execute(
        """
        INSERT INTO exported_records (round_id, center_id, fingerprint, export_id)
        SELECT $2, center_id, fingerprint, export_id FROM export_fingerprints
        WHERE export_id = $1
        ON CONFLICT (round_id, center_id) DO UPDATE SET fingerprint = excluded.fingerprint,
            export_id = excluded.export_id
        """,
        export_id,
        row["round_id"],
    )


async def exported_fingerprints(conn: asyncpg.Connection, round_id: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT center_id, fingerprint FROM exported_records WHERE round_id = $1", round_id
    )
    return {r["center_id"]: r["fingerprint"] for r in rows}


async def rounds_changed_since_export(
    conn: asyncpg.Connection, quiet_seconds: float
) -> list[tuple[str, datetime]]:
    """Rounds with a delivered full export whose submissions changed after they were last
    compared with it, the changes quiet for ``quiet_seconds``, no export under way: with
    the time of their latest change."""
    rows = await conn.fetch(
        """
        SELECT l.round_id, l.changed FROM (
            SELECT round_id, max(changed_at) AS changed FROM submission_versions
            GROUP BY round_id) l
        LEFT JOIN correction_checks c ON c.round_id = l.round_id
        WHERE l.changed < now() - make_interval(secs => $1)
          AND l.changed > coalesce(c.checked_through, '-infinity')
          AND EXISTS (SELECT FROM exports e WHERE e.round_id = l.round_id
                      AND e.kind = 'full' AND e.state IN ('reconciled', 'mismatch'))
          AND NOT EXISTS (SELECT FROM exports e WHERE e.round_id = l.round_id
                          AND e.state IN ('pending', 'delivering'))
        """,
        quiet_seconds,
    )
    return [(r["round_id"], r["changed"]) for r in rows]


async def checked_through(conn: asyncpg.Connection, round_id: str, changed: datetime) -> None:
    await conn.execute(
        "INSERT INTO correction_checks (round_id, checked_through) VALUES ($1, $2)"
        " ON CONFLICT (round_id) DO UPDATE SET checked_through = excluded.checked_through",
        round_id,
        changed,
    )


async def evidence_to_send(conn: asyncpg.Connection, export_id: UUID) -> list[EvidenceToSend]:
    """The package's files the receiver has not verified yet and not given up on."""
    rows = await conn.fetch(
        "SELECT sha256, size, content_type, mismatches FROM evidence_files"
        " WHERE export_id = $1 AND delivered_at IS NULL AND refused IS NULL ORDER BY sha256",
        export_id,
    )
    return [EvidenceToSend(**dict(r)) for r in rows]


async def evidence_delivered(
    conn: asyncpg.Connection, export_id: UUID, sha256: str, lease_seconds: float
) -> None:
    """The receiver verified the file; the export's lease renewed for the next one."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE evidence_files SET delivered_at = now() WHERE export_id = $1 AND sha256 = $2",
            export_id,
            sha256,
        )
        await conn.execute(
            "UPDATE exports SET leased_until = now() + make_interval(secs => $2)"
            " WHERE id = $1 AND leased_until IS NOT NULL",
            export_id,
            lease_seconds,
        )


async def evidence_mismatch(conn: asyncpg.Connection, export_id: UUID, sha256: str) -> int:
    """Count a refused SHA-256 of the assembled file; answer how many so far."""
    count: int = await conn.fetchval(
        "UPDATE evidence_files SET mismatches = mismatches + 1"
        " WHERE export_id = $1 AND sha256 = $2 RETURNING mismatches",
        export_id,
        sha256,
    )
    return count


async def evidence_refused(
    conn: asyncpg.Connection, export_id: UUID, sha256: str, reason: str
) -> None:
    await conn.execute(
        "UPDATE evidence_files SET refused = $3 WHERE export_id = $1 AND sha256 = $2",
        export_id,
        sha256,
        reason,
    )


async def evidence_refusals(conn: asyncpg.Connection, export_id: UUID) -> list[tuple[str, str]]:
    """The package's files given up on: (SHA-256, why)."""
    rows = await conn.fetch(
        "SELECT sha256, refused FROM evidence_files WHERE export_id = $1"
        " AND refused IS NOT NULL ORDER BY sha256",
        export_id,
    )
    return [(r["sha256"], r["refused"]) for r in rows]
