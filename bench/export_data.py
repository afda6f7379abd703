"""The export benchmark's data: a registry of N centers and a round of submission versions,
written straight into the export service's own tables (``export.centers``,
``export.submission_versions``) with COPY, as its event consumers would have left them.

Deterministic for the same arguments. At 1,343 the registry is ``generate_registry()`` (the
2022 shape); larger registries repeat it with new ids (``GECC-000001`` ...), so a record
costs the same whatever the size. About 90 % of the centers report (some late, some twice),
scored as the scoring service scores: the verdict and reasons come from its ``judge`` and
``explain``, with the shipped standard's thresholds and mandatory items.
"""

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from gecc.bootstrap import quote_ident
from gecc.registry_generator import CENTERS_2022, generate_registry
from services.intake.domain.rounds import Round, default_round
from services.intake.domain.submissions import receipt_number
from services.scoring.domain.scoring import Sample, judge
from shared.events import ChecklistScore, SatisfactionScore
from shared.standards import Standard

ROUND: Round = default_round(2570, "H1")
SCHEMA = "export"
SEED = 2570
REPORTING = 0.90  # share of centers with a submission in the round
LATE = 0.08  # share of reporting centers whose latest version came after the due date
TWO_VERSIONS = 0.12  # share of reporting centers that amended once
# Latest versions received but not scored yet: none by default, as at a round's close once
# scoring has caught up. (``--unscored`` adds them, with reasons NULL as ``record_received_many``
# leaves them; at this commit the build then fails in ``build_records``.)
UNSCORED = 0.0
RESCORED = 0.01  # latest versions scored twice (score_version 2)
MANDATORY_MISS = 0.006  # chance of each mandatory item being unmet
OPTIONAL_MISS = 0.10  # chance of each other item being unmet

CENTER_COLUMNS = ("id", "name_th", "name_en", "office_path", "province", "certified_until")
VERSION_COLUMNS = (
    "submission_id",
    "version",
    "center_id",
    "round_id",
    "received_at",
    "late",
    "satisfaction_percent",
    "checklist_percent",
    "verdict",
    "reasons",
    "scored_at",
    "score_version",
    "receipt_number",
)
CenterRow = tuple[str, str, str, str, str, date | None]
VersionRow = tuple[Any, ...]


@dataclass(frozen=True)
class Dataset:
    centers: list[CenterRow]
    versions: list[VersionRow]

    @property
    def reporting(self) -> int:
        return len({row[2] for row in self.versions})

    def latest(self) -> dict[str, VersionRow]:
        """Each reporting center's latest version row."""
        rows: dict[str, VersionRow] = {}
        for row in self.versions:
            if row[2] not in rows or row[1] > rows[row[2]][1]:
                rows[row[2]] = row
        return rows

    def expected_counts(self) -> dict[str, int]:
        """Records by status: on_time, late (the first version came after the due date, as
        intake and the export count a report's timeliness), missing."""
        latest = self.latest()
        late = len({row[2] for row in self.versions if row[1] == 1 and row[5]})
        return {
            "on_time": len(latest) - late,
            "late": late,
            "missing": len(self.centers) - len(latest),
        }


def centers(count: int) -> list[CenterRow]:
    """``count`` centers: the generated registry itself up to 1,343, repeated beyond."""
    if count <= CENTERS_2022:
        return [_center_row(c.id, c) for c in generate_registry(count)]
    base = generate_registry(CENTERS_2022)
    return [_center_row(f"GECC-{n + 1:06d}", base[n % len(base)]) for n in range(count)]


def _center_row(center_id: str, c: Any) -> CenterRow:
    return (center_id, c.name_th, c.name_en, c.office_path, c.province, c.certified_until)


def build(count: int, standard: Standard, seed: int = SEED, unscored: float = UNSCORED) -> Dataset:
    rng = random.Random(seed)
    rows = centers(count)
    versions: list[VersionRow] = []
    for center in rows:
        if rng.random() < REPORTING:
            versions.extend(_submission(center[0], standard, rng, unscored))
    return Dataset(rows, versions)


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = (end - start).total_seconds()
    return start + timedelta(seconds=rng.uniform(0, span))


def _submission(
    center_id: str, standard: Standard, rng: random.Random, unscored: float
) -> list[VersionRow]:
    """One submission's versions: received, then scored (the latest maybe not yet)."""
    late = rng.random() < LATE
    count = 2 if rng.random() < TWO_VERSIONS else 1
    if late:
        last = _moment(rng, ROUND.due_at + timedelta(seconds=1), ROUND.closes_at)
    else:
        last = _moment(rng, ROUND.opens_at + timedelta(days=count), ROUND.due_at)
    received = [last - timedelta(days=rng.uniform(0.5, 10)), last] if count == 2 else [last]
    submission_id = _uuid(rng)
    rows: list[VersionRow] = []
    for version, at in enumerate(received, start=1):
        latest = version == count
        is_late = at > ROUND.due_at
        row: VersionRow = (submission_id, version, center_id, ROUND.id, at, is_late)
        if latest and rng.random() < unscored:
            score: VersionRow = (None, None, None, None, None, None)
        else:
            rescored = latest and rng.random() < RESCORED
            score = _score(standard, rng, at, 2 if rescored else 1)
        rows.append((*row, *score, receipt_number(ROUND.id, center_id, version)))
    return rows


def _score(standard: Standard, rng: random.Random, received: datetime, version: int) -> VersionRow:
    """Percentages, verdict and reasons as ``services.scoring`` produces them."""
    unmet = [
        item
        for item in standard.items
        if rng.random() < (MANDATORY_MISS if item.mandatory else OPTIONAL_MISS)
    ]
    total = sum(item.weight for item in standard.items)
    met = total - sum(item.weight for item in unmet)
    satisfaction = SatisfactionScore(
        overall_percent=round(min(99.5, max(55.0, rng.gauss(88.0, 4.0))), 2),
        respondents=rng.randint(12, 640),
        questions={},
    )
    checklist = ChecklistScore(
        overall_percent=round(met / total * 100, 2),
        areas={},
        unmet_mandatory=[item.code for item in unmet if item.mandatory],
    )
    # Every respondent answered every question: the sample is the respondents.
    sample = Sample(satisfaction.respondents, standard.questions[0].code, satisfaction.respondents)
    verdict, reasons = judge(standard, satisfaction, checklist, sample)
    scored_at = received + timedelta(seconds=rng.uniform(0.2, 3.0))
    if version > 1:
        scored_at += timedelta(days=rng.uniform(1, 5))
    return (
        Decimal(f"{satisfaction.overall_percent:.2f}"),
        Decimal(f"{checklist.overall_percent:.2f}"),
        verdict,
        [r.model_dump(mode="json") for r in reasons],
        scored_at,
        version,
    )


async def connect(url: str) -> asyncpg.Connection:
    """A connection whose jsonb codec is binary, which COPY (binary) needs: version 1, text."""
    conn = await asyncpg.connect(url)
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda value: b"\x01" + json.dumps(value, ensure_ascii=False).encode(),
        decoder=lambda data: json.loads(data[1:]),
        format="binary",
    )
    return conn


async def fill(conn: asyncpg.Connection, data: Dataset) -> None:
    """Empty the export schema's tables (all but its migrations) and COPY ``data`` in;
    ANALYZE; CHECKPOINT.

    ``conn``: a superuser's connection to the bench database from ``connect``.
    """
    names = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> $2",
        SCHEMA,
        "schema_migrations",
    )
    tables = ", ".join(f"{quote_ident(SCHEMA)}.{quote_ident(r['tablename'])}" for r in names)
    await conn.execute(f"TRUNCATE {tables}")
    await conn.copy_records_to_table(
        "centers", schema_name=SCHEMA, records=data.centers, columns=list(CENTER_COLUMNS)
    )
    await conn.copy_records_to_table(
        "submission_versions",
        schema_name=SCHEMA,
        records=data.versions,
        columns=list(VERSION_COLUMNS),
    )
    await conn.execute(f"ANALYZE {SCHEMA}.centers, {SCHEMA}.submission_versions")
    await conn.execute("CHECKPOINT")


def summary(data: Dataset) -> dict[str, int]:
    latest = data.latest()
    return {
        "centers": len(data.centers),
        "versions": len(data.versions),
        "reporting": len(latest),
        "amended": sum(1 for row in latest.values() if row[1] > 1),
        "unscored": sum(1 for row in latest.values() if row[8] is None),
        **data.expected_counts(),
    }


def sizes_text(sizes: Sequence[int]) -> str:
    return ", ".join(f"{n:,}" for n in sizes)
