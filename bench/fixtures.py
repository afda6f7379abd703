"""What the benchmark needs before it runs: its own database and topic namespace, the scratch
tables of baseline B, centers with tokens, an open round, and the request body.

Nothing of the demo is touched: the database is ``gecc_bench`` (recreated on every run, so
runs start from the same empty tables) and the topics are prefixed with ``bench.``.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from gecc.bootstrap import ensure_topics, on_database, prepare_database, quote_ident, with_login
from services.intake import admin
from services.intake.adapters import repository
from services.intake.domain.centers import Center
from services.intake.domain.rounds import calendar
from shared.standards import Standard, default_standards_dir, load_catalog
from shared.submission import SubmissionBody

NAMESPACE = "bench."
ROUND_ID = "FY2570-H1"
FISCAL_YEAR = 2570
STANDARD_ID = "gecc-maintenance-2570"
SCRATCH_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_scratch;
CREATE TABLE IF NOT EXISTS bench_scratch.submissions (
    id          uuid PRIMARY KEY,
    round_id    text NOT NULL,
    body        jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bench_scratch.outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    topic        text NOT NULL,
    message_key  text NOT NULL,
    payload      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON bench_scratch.outbox (id)
    WHERE published_at IS NULL;
"""


@dataclass(frozen=True)
class BenchDatabase:
    admin_url: str
    name: str

    @property
    def superuser_url(self) -> str:
        return on_database(self.admin_url, self.name)

    @property
    def intake_url(self) -> str:
        return with_login(self.admin_url, "intake", self.name)


def standard() -> Standard:
    found = load_catalog(default_standards_dir()).get(STANDARD_ID)
    if found is None:
        raise LookupError(f"standard {STANDARD_ID} not found in {default_standards_dir()}")
    return found


def submission_body(respondents: int = 412) -> dict[str, Any]:
    """A complete report for the shipped standard (like ``tests/support/samples``)."""
    s = standard()
    return {
        "round_id": ROUND_ID,
        "satisfaction": {
            "respondents": respondents,
            "questions": [{"code": q.code, "counts": [1, 3, 20, 150, 238]} for q in s.questions],
        },
        "checklist": {
            "standard": s.id,
            "items": [{"code": i.code, "met": True, "evidence": "ภาพถ่ายจุดบริการ"} for i in s.items],
        },
    }


def request_body() -> str:
    """The JSON sent with every request, checked against the model and the standard."""
    text = json.dumps(submission_body(), ensure_ascii=False, separators=(",", ":"))
    problems = standard().problems_with(SubmissionBody.model_validate_json(text))
    if problems:
        raise ValueError(f"bench body does not fit {STANDARD_ID}: {problems}")
    return text


async def recreate(db: BenchDatabase, kafka_bootstrap: str) -> None:
    """Drop and prepare the bench database (roles, schemas, migrations); create the topics."""
    if not db.name.startswith("gecc_bench"):
        raise ValueError(f"refusing to recreate {db.name!r}: its name must start with gecc_bench")
    server = await asyncpg.connect(on_database(db.admin_url, "postgres"))
    try:
        await server.execute(f"DROP DATABASE IF EXISTS {quote_ident(db.name)} WITH (FORCE)")
    finally:
        await server.close()
    await prepare_database(db.admin_url, db.name)
    await ensure_topics(kafka_bootstrap, NAMESPACE)
    conn = await asyncpg.connect(db.superuser_url)
    try:
        await conn.execute(SCRATCH_SCHEMA)
    finally:
        await conn.close()


def bench_centers(count: int) -> list[Center]:
    return [
        Center(
            id=f"BENCH-{i:05d}",
            name_th=f"ศูนย์ทดสอบ {i}",
            name_en=f"Bench center {i}",
            office_path="PMO/BENCH",
            province="กรุงเทพมหานคร",
        )
        for i in range(1, count + 1)
    ]


def token_text(issued: object) -> str:
    """``admin.issue_token`` returns the token, or an object carrying it as ``.token``."""
    token = issued if isinstance(issued, str) else getattr(issued, "token", None)
    if not isinstance(token, str):
        raise TypeError(f"issue_token returned {type(issued).__name__} without a token")
    return token


async def open_round(conn: asyncpg.Connection, now: datetime) -> None:
    await repository.ensure_rounds(conn, calendar(FISCAL_YEAR))
    due = now + timedelta(days=30)
    await admin.set_round_dates(conn, ROUND_ID, now - timedelta(days=1), due, due + timedelta(14))


async def enrol(db: BenchDatabase, centers: int) -> list[str]:
    """Register the centers, open the round, and return one token per center."""
    conn = await asyncpg.connect(db.intake_url)
    try:
        async with conn.transaction():
            await open_round(conn, datetime.now(UTC))
            registered = bench_centers(centers)
            await admin.register_centers(conn, registered)
            return [
                token_text(await admin.issue_token(conn, "center", center_id=c.id, label="bench"))
                for c in registered
            ]
    finally:
        await conn.close()


async def server_facts(db: BenchDatabase) -> dict[str, str]:
    return await postgres_facts(db.superuser_url)


async def postgres_facts(url: str) -> dict[str, str]:
    """The PostgreSQL version and the settings that decide commit speed."""
    conn = await asyncpg.connect(url)
    try:
        return {
            name: str(await conn.fetchval(f"SHOW {name}"))
            for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers")
        }
    finally:
        await conn.close()
