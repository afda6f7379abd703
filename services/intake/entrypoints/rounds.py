"""Intake's HTTP API for rounds: calendar, administration, extensions, completeness, and
the submissions' summary tools read (the demo, the benchmark) instead of intake's tables."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.intake.adapters import repository
from services.intake.adapters.repository import RoundSubmissions
from services.intake.domain.completeness import (
    VERDICTS,
    CenterState,
    CompletenessReport,
    LevelCounts,
)
from services.intake.domain.rounds import Round
from services.intake.domain.thai import thai_date
from services.intake.entrypoints.auth import Caller, center_of, remote_addr, require
from services.intake.entrypoints.http import public_view
from services.intake.entrypoints.openapi import problems
from services.intake.entrypoints.problems import NOT_FOUND
from services.intake.handlers import rounds, submissions
from shared.sheets import BOM, write_sheet
from shared.values import Moment, StoredText

router = APIRouter(prefix="/v1", tags=["rounds"], responses=problems(404))


class RoundView(BaseModel):
    id: str
    kind: str
    fiscal_year: int
    period_start: str
    period_end: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    opens_th: str
    due_th: str
    closes_th: str

    @classmethod
    def of(cls, r: Round) -> "RoundView":
        return cls(
            id=r.id,
            kind=r.kind,
            fiscal_year=r.fiscal_year,
            period_start=r.period_start.isoformat(),
            period_end=r.period_end.isoformat(),
            opens_at=r.opens_at,
            due_at=r.due_at,
            closes_at=r.closes_at,
            opens_th=thai_date(r.opens_at),
            due_th=thai_date(r.due_at),
            closes_th=thai_date(r.closes_at),
        )


class RoundDatesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opens_at: Moment | None = None
    due_at: Moment | None = None
    closes_at: Moment | None = None


class ScoringLagView(BaseModel):
    p50_seconds: float
    p99_seconds: float
    max_seconds: float


class RoundSubmissionsView(BaseModel):
    round_id: str
    submitted: int = Field(description="Centers that submitted")
    late: int = Field(description="Submissions whose first version was late")
    amended: int = Field(description="Submissions with more than one version")
    verdicts: dict[str, int] = Field(
        description="The latest version's verdict; pending: not scored yet"
    )
    versions: int = Field(description="Versions received, amendments included")
    versions_scored: int
    scoring_lag: ScoringLagView | None = Field(
        description="From a version's receipt to its score, over the scored versions"
    )

    @classmethod
    def of(cls, round_id: str, found: RoundSubmissions) -> "RoundSubmissionsView":
        verdicts = dict.fromkeys((*VERDICTS, "pending"), 0)
        for verdict, n in found.verdicts.items():
            verdicts[verdict or "pending"] = n
        lag = found.scoring_lag
        return cls(
            round_id=round_id,
            submitted=found.submitted,
            late=found.late,
            amended=found.amended,
            verdicts=verdicts,
            versions=found.versions,
            versions_scored=found.versions_scored,
            scoring_lag=None
            if lag is None
            else ScoringLagView(p50_seconds=lag.p50, p99_seconds=lag.p99, max_seconds=lag.max),
        )


class ExtensionGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    center_id: StoredText = Field(min_length=1, max_length=32)
    until: Moment
    reason: StoredText = Field(min_length=3, max_length=2000)


@router.get("/rounds", response_model=list[RoundView], summary="All rounds")
async def list_rounds(_: Caller, request: Request) -> list[RoundView]:
    async with request.app.state.runtime.pool.acquire() as conn:
        return [RoundView.of(r) for r in await repository.list_rounds(conn)]


@router.get("/rounds/{round_id}", response_model=RoundView, summary="One round")
async def get_round(round_id: str, _: Caller, request: Request) -> RoundView:
    async with request.app.state.runtime.pool.acquire() as conn:
        found = await repository.get_round(conn, round_id)
    if found is None:
        raise NOT_FOUND
    return RoundView.of(found)


@router.patch(
    "/rounds/{round_id}",
    response_model=RoundView,
    summary="Change a round's dates before it closes (operators; audited)",
    responses=problems(403, 409),
)
async def change_round(
    round_id: str, change: RoundDatesChange, who: Caller, request: Request
) -> RoundView:
    require(who, "operator")
    changes = change.model_dump(exclude_none=True)
    runtime = request.app.state.runtime
    updated = await rounds.change_round_dates(
        runtime.pool, who, round_id, changes, remote_addr(request), runtime.clock.now()
    )
    return RoundView.of(updated)


@router.get(
    "/rounds/{round_id}/submission",
    summary="The caller's own submission for a round",
    responses=problems(403),
)
async def own_submission(round_id: str, who: Caller, request: Request) -> dict[str, Any]:
    found = await submissions.find_own_submission(
        request.app.state.runtime.pool, center_of(who), round_id
    )
    if found is None:
        raise NOT_FOUND
    return public_view(found)


@router.post(
    "/rounds/{round_id}/extensions",
    status_code=201,
    summary="Let one center submit after the round closed (operators; audited)",
    responses=problems(403),
)
async def grant_extension(
    round_id: str, grant: ExtensionGrant, who: Caller, request: Request
) -> dict[str, Any]:
    require(who, "operator")
    await rounds.grant_extension(
        request.app.state.runtime.pool,
        who,
        round_id,
        grant.center_id,
        grant.until,
        grant.reason,
        remote_addr(request),
        request.app.state.runtime.clock.now(),
    )
    return {"round_id": round_id, **grant.model_dump(mode="json")}


@router.get(
    "/rounds/{round_id}/extensions",
    summary="Extensions granted in a round",
    responses=problems(403),
)
async def list_extensions(round_id: str, who: Caller, request: Request) -> list[dict[str, Any]]:
    require(who, "operator", "office")
    assert who.scope is not None
    async with request.app.state.runtime.pool.acquire() as conn:
        return await repository.list_extensions(conn, round_id, who.scope)


@router.get(
    "/rounds/{round_id}/completeness",
    summary="Expected, submitted, on time, late, missing and verdicts per office level",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        **problems(403),
    },
)
async def get_completeness(
    round_id: str,
    who: Caller,
    request: Request,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    view: Annotated[Literal["levels", "missing"], Query()] = "levels",
) -> Any:
    require(who, "operator", "office")
    assert who.scope is not None
    report = await rounds.round_completeness(request.app.state.runtime.pool, round_id, who.scope)
    if format == "csv":
        return csv_response(f"{round_id}-{view}.csv", completeness_rows(report, view))
    return {
        "round_id": round_id,
        "scope": report.scope,
        "levels": [level_row(level) for level in report.levels],
        "missing": [missing_row(c) for c in report.missing],
    }


@router.get(
    "/rounds/{round_id}/submissions/summary",
    response_model=RoundSubmissionsView,
    summary="A round's submissions: late, amended, verdicts, scoring lag (operators)",
    responses=problems(403),
)
async def submissions_summary(round_id: str, who: Caller, request: Request) -> RoundSubmissionsView:
    require(who, "operator")
    async with request.app.state.runtime.pool.acquire() as conn:
        if await repository.get_round(conn, round_id) is None:
            raise NOT_FOUND
        found = await repository.round_submissions(conn, round_id)
    return RoundSubmissionsView.of(round_id, found)


@router.get(
    "/audit",
    tags=["operations"],
    summary="Audit log entries (operators)",
    responses=problems(403),
)
async def audit_log(
    who: Caller,
    request: Request,
    target: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    require(who, "operator")
    async with request.app.state.runtime.pool.acquire() as conn:
        return await repository.audit_entries(conn, target, limit)


def level_row(level: LevelCounts) -> dict[str, Any]:
    return {
        "office_path": level.office_path,
        "depth": level.depth,
        "expected": level.expected,
        "submitted": level.submitted,
        "on_time": level.on_time,
        "late": level.late,
        "missing": level.missing,
        "completeness_percent": round(level.submitted / level.expected * 100, 1),
        **{verdict: level.verdicts[verdict] for verdict in (*VERDICTS, "pending")},
    }


def missing_row(center: CenterState) -> dict[str, Any]:
    return {
        "center_id": center.center_id,
        "name_th": center.name_th,
        "office_path": center.office_path,
        "province": center.province,
    }


def completeness_rows(report: CompletenessReport, view: str) -> list[dict[str, Any]]:
    if view == "missing":
        return [missing_row(c) for c in report.missing]
    return [level_row(level) for level in report.levels]


def csv_response(filename: str, rows: list[dict[str, Any]]) -> Response:
    """UTF-8 with a byte-order mark, so Excel opens the Thai text intact; a center's name
    that a spreadsheet would run as a formula stays text (``shared.sheets``)."""
    text = write_sheet(list(rows[0]), (row.values() for row in rows)) if rows else BOM
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
