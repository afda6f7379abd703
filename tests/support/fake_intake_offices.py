"""The fake intake (tests/support/fake_intake.py) with parent offices and operators: a
small registry written by hand, its completeness in round FY2570-H1 counted by hand (never
computed with intake's code: the page tests compare the portal's pages with these numbers),
office names, the centers' reports and intake's scope rule (an office sees its subtree,
an operator everything; 404 otherwise).

    PMO                สำนักงาน ก.พ.ร.      237 expected (operators' scope)
    PMO/BMA            กรุงเทพมหานคร          5
    PMO/BMA/DISTRICT   สำนักงานเขต            3: 0001 on time maintained, 0002 late at risk,
                                               0003 missing
    PMO/BMA/HEALTH     สำนักอนามัย            2: 0004 on time awaiting its result, 0005 missing
    PMO/MOI            กระทรวงมหาดไทย       232
    PMO/MOI/DOL        กรมที่ดิน               2: 0006 on time not maintained, 0007 missing
    PMO/MOI/DOPA       กรมการปกครอง         230 missing (for paging: 3 pages of 100)
"""

import copy
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.portal.adapters.intake import (
    Account,
    FileStream,
    NotFound,
    OpenedSession,
    Refused,
    SessionEnded,
)
from shared.standards import Standard
from tests.support.fake_intake import ROUND, FakeIntake
from tests.support.samples import standard, submission_body

OLD_ROUND = "FY2569-FY"
OFFICE_NAMES = {
    "PMO": ("สำนักงาน ก.พ.ร.", "Office of the Public Sector Development Commission"),
    "PMO/BMA": ("กรุงเทพมหานคร", "Bangkok Metropolitan Administration"),
    "PMO/BMA/DISTRICT": ("สำนักงานเขต", "District offices"),
    "PMO/BMA/HEALTH": ("สำนักอนามัย", "Health Department"),
    "PMO/MOI": ("กระทรวงมหาดไทย", "Ministry of Interior"),
    "PMO/MOI/DOL": ("กรมที่ดิน", "Department of Lands"),
    "PMO/MOI/DOPA": ("กรมการปกครอง", "Department of Provincial Administration"),
}


def _level(path: str, counts: tuple[int, int, int, int, int], verdicts: tuple[int, ...]) -> dict:
    expected, submitted, on_time, late, missing = counts
    maintained, at_risk, not_maintained, pending = verdicts
    name_th, name_en = OFFICE_NAMES[path]
    return {
        "office_path": path,
        "depth": path.count("/"),
        "name_th": name_th,
        "name_en": name_en,
        "expected": expected,
        "submitted": submitted,
        "on_time": on_time,
        "late": late,
        "missing": missing,
        "verdicts": {
            "maintained": maintained,
            "at_risk": at_risk,
            "not_maintained": not_maintained,
            "pending": pending,
        },
    }


# counted by hand from the registry above: (expected, submitted, on time, late, missing),
# (maintained, at risk, not maintained, pending)
LEVELS = [
    _level("PMO", (237, 4, 3, 1, 233), (1, 1, 1, 1)),
    _level("PMO/BMA", (5, 3, 2, 1, 2), (1, 1, 0, 1)),
    _level("PMO/BMA/DISTRICT", (3, 2, 1, 1, 1), (1, 1, 0, 0)),
    _level("PMO/BMA/HEALTH", (2, 1, 1, 0, 1), (0, 0, 0, 1)),
    _level("PMO/MOI", (232, 1, 1, 0, 231), (0, 0, 1, 0)),
    _level("PMO/MOI/DOL", (2, 1, 1, 0, 1), (0, 0, 1, 0)),
    _level("PMO/MOI/DOPA", (230, 0, 0, 0, 230), (0, 0, 0, 0)),
]
AT_RISK_REASON = {
    "code": "satisfaction_below",
    "text_th": "ความพึงพอใจต่ำกว่าร้อยละ 80",
    "text_en": "Satisfaction below 80 %",
}
UNMET_REASON = {
    "code": "mandatory_unmet",
    "text_th": "ไม่ผ่านเกณฑ์บังคับข้อ P1",
    "text_en": "Mandatory item P1 not met",
}


def _center(
    number: int,
    name_th: str,
    office: str,
    submitted: bool = False,
    late: bool = False,
    verdict: str | None = None,
    reasons: Sequence[dict[str, str]] = (),
    citizen_survey: bool = False,
) -> dict[str, Any]:
    center_id = f"GECC-{number:04d}"
    # where its satisfaction figures come from, as intake's lists say (issue 19)
    kind = ("citizen_survey" if citizen_survey else "center_survey") if submitted else None
    return {
        "center_id": center_id,
        "code": f"C{number:04d}",
        "name_th": name_th,
        "name_en": f"Center {number}",
        "office_path": office,
        "province": "TH-10" if office.startswith("PMO/BMA") else "TH-50",
        "submitted": submitted,
        "late": late,
        "verdict": verdict,
        "submission_id": f"sub-{center_id}" if submitted else None,
        "reasons": list(reasons),
        "satisfaction_source": kind,
        "survey_responses": 300 + number if citizen_survey else None,
    }


CENTER_ROWS = [
    _center(1, "สำนักงานเขตพระนคร", "PMO/BMA/DISTRICT", True, False, "maintained"),
    _center(2, "สำนักงานเขตดุสิต", "PMO/BMA/DISTRICT", True, True, "at_risk", [AT_RISK_REASON]),
    _center(3, "สำนักงานเขตบางรัก", "PMO/BMA/DISTRICT"),
    _center(4, "ศูนย์บริการสาธารณสุข 1", "PMO/BMA/HEALTH", True, citizen_survey=True),
    _center(5, "ศูนย์บริการสาธารณสุข 2", "PMO/BMA/HEALTH"),
    _center(
        6, "สำนักงานที่ดินจังหวัดเชียงใหม่", "PMO/MOI/DOL", True, False, "not_maintained", [UNMET_REASON]
    ),
    _center(7, "สำนักงานที่ดินจังหวัดขอนแก่น", "PMO/MOI/DOL"),
] + [_center(100 + n, f"ที่ว่าการอำเภอที่ {n}", "PMO/MOI/DOPA") for n in range(1, 231)]


def _report(row: dict[str, Any]) -> dict[str, Any]:
    """The report a listed center sent: a citizen survey's figures name their source."""
    report = submission_body(respondents=300 + int(row["center_id"][-4:]))
    if row["satisfaction_source"] == "citizen_survey":
        report["satisfaction"]["source"] = {
            "kind": "citizen_survey",
            "responses": row["survey_responses"],
            "revision": 57,
            "tallied_at": "2026-12-01T02:13:00Z",
        }
    return report


def _within(scope: str, path: str) -> bool:
    return path == scope or path.startswith(f"{scope}/")


def _scorecard(verdict: str, reasons: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "satisfaction": {"overall_percent": 84.6},
        "checklist": {"overall_percent": 91.0},
        "satisfaction_change": None,
        "checklist_change": None,
        "change": "first_result",
        "previous": None,
        "reasons": reasons,
    }


@dataclass
class FakeIntakeOffices(FakeIntake):
    # e-mail -> office path (offices) or None (operators)
    office_accounts: dict[str, str | None] = field(default_factory=dict)
    # session token -> its scope (an operator's: PMO)
    office_sessions: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str, str, str]] = field(default_factory=list)
    # a copy a test may change (reports arriving)
    levels: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(LEVELS))
    completeness_calls: int = 0

    def __post_init__(self) -> None:
        for row in CENTER_ROWS:
            self.centers.setdefault(
                row["center_id"],
                {
                    "id": row["center_id"],
                    "name_th": row["name_th"],
                    "name_en": row["name_en"],
                    "office_path": row["office_path"],
                    "province": "กรุงเทพมหานคร",
                },
            )
            if row["submitted"]:
                self._sent(row)

    def _sent(self, row: dict[str, Any]) -> None:
        center_id = row["center_id"]
        received = self.now - timedelta(days=1)
        self.submissions[row["submission_id"]] = {
            "id": row["submission_id"],
            "center_id": center_id,
            "round_id": ROUND,
            "versions": [
                {
                    "submission_id": row["submission_id"],
                    "version": 1,
                    "receipt_number": f"{ROUND}/{center_id}/v1",
                    "round_id": ROUND,
                    "received_at": received,
                    "late": row["late"],
                    "extension": False,
                    "status": "scored" if row["verdict"] else "received",
                    "verdict": row["verdict"],
                    "scorecard": _scorecard(row["verdict"], row["reasons"])
                    if row["verdict"]
                    else None,
                    "scored_at": received if row["verdict"] else None,
                    "report": _report(row),
                }
            ],
        }

    async def open_session(self, code: str, scope: str | None, client: str) -> OpenedSession:
        email = self.codes.get(code)
        if email is None or email not in self.office_accounts:
            return await super().open_session(code, scope, client)
        self.codes.pop(code)
        path = self.office_accounts[email]
        token = f"gecc_session_{secrets.token_urlsafe(16)}"
        self.office_sessions[token] = path or "PMO"
        kind = "office" if path else "operator"
        return OpenedSession(
            token=token,
            expires_at=self.now + timedelta(hours=8),
            account=Account(email, kind, None, path, email.split("@")[0]),
        )

    async def close_session(self, token: str) -> None:
        self.office_sessions.pop(token, None)
        await super().close_session(token)

    def _scope(self, token: str) -> str | None:
        """An office session's scope; None for a center's session (SessionEnded: none)."""
        if token in self.office_sessions:
            return self.office_sessions[token]
        if token in self.sessions:
            return None
        raise SessionEnded(token)

    def _office_scope(self, token: str) -> str:
        scope = self._scope(token)
        if scope is None:
            raise Refused(403, {"code": "forbidden"})
        return scope

    def _readable(self, token: str, center_id: str) -> bool:
        scope = self._scope(token)
        if scope is None:
            return self.sessions[token] == center_id
        found = self.centers.get(center_id)
        return found is not None and _within(scope, found["office_path"])

    async def center(self, token: str, center_id: str) -> dict[str, Any]:
        if not self._readable(token, center_id):
            raise NotFound(center_id)
        return self.centers[center_id]

    async def center_rounds(self, token: str, center_id: str) -> list[dict[str, Any]]:
        if self._scope(token) is None:
            return await super().center_rounds(token, center_id)
        if not self._readable(token, center_id):
            raise NotFound(center_id)
        sent = next((s for s in self.submissions.values() if s["center_id"] == center_id), None)
        latest = sent["versions"][-1] if sent else None
        return [
            {
                "round": {"id": ROUND},
                "submission_id": sent["id"] if sent else None,
                "latest_version": latest["version"] if latest else None,
                "late": latest["late"] if latest else None,
                "verdict": latest["verdict"] if latest else None,
            }
        ]

    async def standard(self, token: str, standard_id: str | None = None) -> Standard:
        self._scope(token)
        return standard()

    def _submission(self, token: str, submission_id: str) -> dict[str, Any]:
        found = self.submissions.get(submission_id)
        if found is None or not self._readable(token, found["center_id"]):
            raise NotFound(submission_id)
        return found

    async def rounds(self, token: str) -> list[dict[str, Any]]:
        self._scope(token)
        opened = self.now - timedelta(days=3)
        return [
            {
                "id": OLD_ROUND,
                "kind": "FY",
                "opens_at": opened - timedelta(days=365),
                "due_at": opened - timedelta(days=350),
                "closes_at": opened - timedelta(days=330),
            },
            {
                "id": ROUND,
                "kind": "H1",
                "opens_at": opened,
                "due_at": self.now + timedelta(days=12),
                "closes_at": self.now + timedelta(days=26),
            },
        ]

    async def completeness(
        self,
        token: str,
        round_id: str,
        office: str | None = None,
        depth: int | None = None,
        lists: Sequence[str] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        self.completeness_calls += 1
        scope = self._office_scope(token)
        office = office or scope
        if round_id not in (ROUND, OLD_ROUND) or not _within(scope, office):
            raise NotFound(office)
        levels = [level for level in self.levels if _within(office, level["office_path"])]
        if not levels:
            raise NotFound(office)
        if depth is not None:
            deepest = office.count("/") + depth
            levels = [level for level in levels if level["depth"] <= deepest]
        answer: dict[str, Any] = {
            "round_id": round_id,
            "scope": scope,
            "office": office,
            "levels": levels,
            "totals": {},
        }
        for name in lists:
            rows = sorted(
                (row for row in self._list(name) if _within(office, row["office_path"])),
                key=lambda row: (row["office_path"], row["center_id"]),
            )
            answer["totals"][name] = len(rows)
            answer[name] = [
                {k: v for k, v in row.items() if k != "reasons" or name == "follow_up"}
                for row in rows[offset : offset + limit]
            ]
        return answer

    def _list(self, name: str) -> list[dict[str, Any]]:
        if name == "missing":
            return [row for row in CENTER_ROWS if not row["submitted"]]
        if name == "late":
            return [row for row in CENTER_ROWS if row["late"]]
        if name == "follow_up":
            return [row for row in CENTER_ROWS if row["verdict"] in ("at_risk", "not_maintained")]
        return CENTER_ROWS

    async def completeness_file(
        self, token: str, round_id: str, office: str, view: str, format: str
    ) -> FileStream:
        await self.completeness(token, round_id, office, lists=())  # the scope rule
        self.files.append((round_id, office, view, format))
        name = f"{round_id}-{office.replace('/', '_')}-{view}.{format}"
        content = "\ufeffoffice_path,name_th\r\nPMO/BMA,กรุงเทพมหานคร\r\n".encode()

        async def chunks() -> AsyncIterator[bytes]:
            yield content[:10]
            yield content[10:]

        return FileStream(
            content_type="text/csv; charset=utf-8"
            if format == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            disposition=f'attachment; filename="{name}"',
            chunks=chunks(),
        )

    async def office(self, token: str, path: str) -> dict[str, Any]:
        scope = self._office_scope(token)
        if path not in OFFICE_NAMES or not _within(scope, path):
            raise NotFound(path)
        name_th, name_en = OFFICE_NAMES[path]
        return {"office_path": path, "name_th": name_th, "name_en": name_en}


def fake_with_offices(
    centers: dict[str, dict[str, Any]],
    accounts: dict[str, str],
    offices: dict[str, str | None],
    now: datetime | None = None,
) -> FakeIntakeOffices:
    return FakeIntakeOffices(
        centers=dict(centers),
        accounts=accounts,
        office_accounts=offices,
        now=now or datetime.now(UTC),
    )
