"""Intake's HTTP API for rounds: calendar, administration, extensions, completeness, and
the submissions' summary tools read (the demo, the benchmark) instead of intake's tables."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.intake.adapters import repository
from services.intake.adapters.repository import AuditQuery, RoundSubmissions
from services.intake.domain.completeness import (
    LISTS,
    VERDICTS,
    CenterState,
    LevelCounts,
    ListName,
    lists_asked,
)
from services.intake.domain.rounds import Round
from services.intake.domain.thai import thai_date
from services.intake.entrypoints.auth import Caller, center_of, remote_addr, require
from services.intake.entrypoints.http import public_view
from services.intake.entrypoints.openapi import problems
from services.intake.entrypoints.problems import NOT_FOUND
from services.intake.handlers import rounds, submissions
from services.intake.handlers.errors import InvalidRequest
from services.intake.handlers.rounds import CompletenessReport
from shared.sheets import write_sheet, write_xlsx
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
    reason: StoredText = Field(
        min_length=3, max_length=2000, description="Why the dates change (in the audit log)"
    )


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
    changes = change.model_dump(exclude_none=True, exclude={"reason"})
    runtime = request.app.state.runtime
    updated = await rounds.change_round_dates(
        runtime.pool,
        who,
        round_id,
        changes,
        change.reason,
        remote_addr(request),
        runtime.clock.now(),
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


SHEETS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/rounds/{round_id}/completeness",
    summary="Expected, submitted, on time, late, missing and verdicts per office level, with"
    " the lists of missing, late and follow-up centers (offices in their subtree, operators)",
    responses={
        200: {"content": {"application/json": {}, SHEETS["csv"]: {}, SHEETS["xlsx"]: {}}},
        **problems(403),
    },
)
async def get_completeness(
    round_id: str,
    who: Caller,
    request: Request,
    office: Annotated[
        str | None,
        Query(max_length=200, description="An office path in the caller's scope (default: it)"),
    ] = None,
    depth: Annotated[
        int | None,
        Query(ge=0, le=50, description="Levels below the office (default: all; 0: the office)"),
    ] = None,
    lists: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Comma-separated: missing, late, follow_up, centers (default missing;"
            " empty: none)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    view: Annotated[
        Literal["levels", "missing", "late", "follow_up", "centers"], Query()
    ] = "levels",
) -> Any:
    require(who, "operator", "office")
    assert who.scope is not None
    pool = request.app.state.runtime.pool
    if format != "json":  # one table, all of its rows
        table: tuple[ListName, ...] = () if view == "levels" else (view,)
        report = await rounds.round_completeness(
            pool, round_id, who.scope, office, depth, table, None
        )
        columns, rows = completeness_table(report, view)
        path = report.office.replace("/", "_")
        filename = f"{round_id}-{path}-{view}.{format}"
        return sheet_response(filename, format, view, columns, rows)
    try:
        asked = lists_asked(lists)
    except ValueError as error:
        raise InvalidRequest([("lists", str(error))]) from None
    report = await rounds.round_completeness(
        pool, round_id, who.scope, office, depth, asked, limit, offset
    )
    # Plain JSON values only: answered as they are, without FastAPI's encoder walking
    # thousands of rows again.
    return JSONResponse(
        {
            "round_id": round_id,
            "scope": report.scope,
            "office": report.office,
            "levels": [level_row(level, report.names) for level in report.levels],
            **{
                name: [center_row(c, follow_up=name == "follow_up") for c in page]
                for name, page in report.lists.items()
            },
            "totals": report.totals,
        }
    )


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
    summary="Audit log entries, newest first (operators); the next page: before=<last id>",
    responses=problems(403),
)
async def audit_log(
    who: Caller,
    request: Request,
    target: Annotated[str, Query(max_length=200, description="Target prefix")] = "",
    actor: Annotated[str, Query(max_length=200, description="Actor prefix")] = "",
    since: Annotated[Moment | None, Query(description="From this time (inclusive)")] = None,
    until: Annotated[Moment | None, Query(description="Before this time (exclusive)")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only entries older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    require(who, "operator")
    async with request.app.state.runtime.pool.acquire() as conn:
        return await repository.audit_entries(
            conn, AuditQuery(target, actor, since, until, before), limit
        )


def level_row(level: LevelCounts, names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    name_th, name_en = names.get(level.office_path, (None, None))
    return {
        "office_path": level.office_path,
        "depth": level.depth,
        "name_th": name_th,
        "name_en": name_en,
        "expected": level.expected,
        "submitted": level.submitted,
        "on_time": level.on_time,
        "late": level.late,
        "missing": level.missing,
        "completeness_percent": round(level.submitted / level.expected * 100, 1),
        "verdicts": dict(level.verdicts),
        # The verdicts flat as well, as the first callers read them.
        **{verdict: level.verdicts[verdict] for verdict in (*VERDICTS, "pending")},
    }


def center_row(center: CenterState, follow_up: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "center_id": center.center_id,
        "code": center.center_id,
        "name_th": center.name_th,
        "office_path": center.office_path,
        "province": center.province,
        "submitted": center.submitted,
        "late": center.late,
        "verdict": center.verdict,
        "submission_id": center.submission_id,
        "satisfaction_source": center.satisfaction_source,
        "survey_responses": center.survey_responses,
    }
    if follow_up:
        row["reasons"] = [
            {"code": r.code, "text_th": r.text_th, "text_en": r.text_en} for r in center.reasons
        ]
    return row


LEVEL_COLUMNS = (
    "office_path",
    "name_th",
    "name_en",
    "depth",
    "expected",
    "submitted",
    "on_time",
    "late",
    "missing",
    "completeness_percent",
    *VERDICTS,
    "pending",
)
CENTER_COLUMNS = (
    "center_id",
    "name_th",
    "office_path",
    "province",
    "submitted",
    "late",
    "verdict",
    "submission_id",
    "satisfaction_source",
    "survey_responses",
)


def completeness_table(
    report: CompletenessReport, view: str
) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The one table a CSV or XLSX download holds: the same columns and rows in both."""
    if view == "levels":
        rows = [level_row(level, report.names) for level in report.levels]
        return LEVEL_COLUMNS, [[_cell(row[c]) for c in LEVEL_COLUMNS] for row in rows]
    name: ListName = next(n for n in LISTS if n == view)
    follow_up = name == "follow_up"
    columns = (*CENTER_COLUMNS, "reasons_th", "reasons_en") if follow_up else CENTER_COLUMNS
    table = []
    for center in report.lists[name]:
        row = center_row(center)
        cells = [_cell(row[c]) for c in CENTER_COLUMNS]
        if follow_up:
            cells += [
                "; ".join(r.text_th or r.code for r in center.reasons),
                "; ".join(r.text_en or r.code for r in center.reasons),
            ]
        table.append(cells)
    return columns, table


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def sheet_response(
    filename: str, format: str, title: str, columns: tuple[str, ...], rows: list[list[Any]]
) -> Response:
    """CSV (UTF-8 with a byte-order mark, so Excel opens the Thai text intact) or XLSX; text a
    spreadsheet would run as a formula stays text in both (``shared.sheets``)."""
    if format == "xlsx":
        body = write_xlsx(columns, rows, title)
    else:
        body = write_sheet(columns, rows).encode("utf-8")
    return Response(
        body,
        media_type=SHEETS[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
