"""The fake intake of tests/support/fake_intake.py with what the operator pages use (issue 17's
contract, /v1 rounds, extensions, exports, audit, accounts), hand-written: office and
operator accounts sign in too; operators' changes are audited; a closed round's dates are
refused (409 ``round_closed``), a change without a reason too (422 naming ``reason``); an
accounts file with any error is refused by line and column and nothing is imported."""

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.portal.adapters.intake import (
    Account,
    NotFound,
    OpenedSession,
    Refused,
    SessionEnded,
)
from tests.support.fake_intake import ROUND, FakeIntake

CLOSED_ROUND = "FY2569-FY"
KINDS = ("center", "office", "operator")


@dataclass
class FakeOperatorsIntake(FakeIntake):
    # e-mail -> (kind, scope) of office and operator accounts
    people: dict[str, tuple[str, str]] = field(default_factory=dict)
    people_sessions: dict[str, str] = field(default_factory=dict)
    round_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    extension_rows: list[dict[str, Any]] = field(default_factory=list)
    export_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)
    account_rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The page tests' ``accounts`` (e-mail -> center) makes way for the method of the
        # same name that intake's client has.
        self.center_accounts: dict[str, str] = self.__dict__.pop("accounts")
        now = self.now
        self.round_rows = {
            ROUND: self._round(ROUND, now - timedelta(days=3), now + timedelta(days=12), 26),
            CLOSED_ROUND: self._round(
                CLOSED_ROUND, now - timedelta(days=200), now - timedelta(days=160), 0, "2025"
            ),
        }
        self.export_rows = {
            ROUND: {"exports": [], "requests": []},
            CLOSED_ROUND: {
                "exports": [
                    {
                        "export_id": "5d0b7a52-0000-4000-8000-000000000001",
                        "kind": "full",
                        "trigger": "round_closed",
                        "request_id": None,
                        "state": "reconciled",
                        "records": 1343,
                        "batches": 3,
                        "batches_acknowledged": 3,
                        "attempts": 2,
                        "last_error": "PMO system answered 503",
                        # As the export reports them (services/export, ExportStatus).
                        "counts": {
                            "total": 1343,
                            "on_time": 1200,
                            "late": 43,
                            "missing": 100,
                            "evidence_files": 2,
                            "evidence_bytes": 504200,
                        },
                        "acknowledged": {"records": 1343, "batches": 3, "late": 43},
                        "created_at": now - timedelta(days=150),
                        "updated_at": now - timedelta(days=150, hours=-1),
                    }
                ],
                "requests": [],
            },
        }
        for email, (kind, scope) in self.people.items():
            label = {"operator": "ผู้ดูแลระบบ สปน.", "office": "กรุงเทพมหานคร"}.get(kind, scope)
            self.account_rows.append(
                {
                    "email": email,
                    "kind": kind,
                    "disabled": False,
                    "memberships": [{"scope": scope, "label_th": label}],
                }
            )
        for email, center_id in self.center_accounts.items():
            self.account_rows.append(
                {
                    "email": email,
                    "kind": "center",
                    "disabled": False,
                    "memberships": [
                        {"scope": center_id, "label_th": self.centers[center_id]["name_th"]}
                    ],
                }
            )

    def _round(
        self, round_id: str, opens: datetime, due: datetime, late_days: int, year: str = "2026"
    ) -> dict[str, Any]:
        closes = due + timedelta(days=late_days) if late_days else due + timedelta(days=10)
        return {
            "id": round_id,
            "kind": round_id.rsplit("-", 1)[1],
            "fiscal_year": int(round_id[2:6]),
            "period_start": f"{year}-10-01",
            "period_end": f"{int(year) + 1}-03-31",
            "opens_at": opens,
            "due_at": due,
            "closes_at": closes,
        }

    # --- Sessions: offices and operators sign in as well ------------------------------

    async def request_sign_in(self, email: str, locale: str, client: str) -> None:
        self.requested.append(email)
        if email in self.center_accounts or email in self.people:
            self.link_for(email)

    async def open_session(self, code: str, scope: str | None, client: str) -> OpenedSession:
        email = self.codes.pop(code, None)
        if email is None:
            raise Refused(410, {"code": "link_used_or_expired"})
        token = f"gecc_session_{secrets.token_urlsafe(16)}"
        if email in self.center_accounts:
            center_id = self.center_accounts[email]
            self.sessions[token] = center_id
            name = self.centers[center_id]["name_th"]
            return OpenedSession(
                token=token,
                expires_at=self.now + timedelta(hours=8),
                account=Account(email, "center", center_id, None, name),
            )
        kind, path = self.people[email]
        self.people_sessions[token] = email
        office = path if kind == "office" else "PMO"
        return OpenedSession(
            token=token,
            expires_at=self.now + timedelta(hours=8),
            account=Account(email, kind, None, office, email.split("@")[0]),
        )

    async def close_session(self, token: str) -> None:
        self.people_sessions.pop(token, None)
        await super().close_session(token)

    def _operator(self, token: str) -> str:
        email = self.people_sessions.get(token)
        if email is None:
            if token in self.sessions:
                raise Refused(403, {"code": "forbidden"})
            raise SessionEnded(token)
        if self.people[email][0] != "operator":
            raise Refused(403, {"code": "forbidden"})
        return email

    def _audit(self, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        self.audit_rows.append(
            {
                "id": len(self.audit_rows) + 1,
                "at": (self.now + timedelta(seconds=len(self.audit_rows))).isoformat(),
                "actor": actor,
                "action": action,
                "target": target,
                "details": details,
                "remote_addr": "203.0.113.5",
            }
        )

    # --- Rounds, extensions, exports --------------------------------------------------

    async def rounds(self, token: str) -> list[dict[str, Any]]:
        self._operator(token)
        return list(self.round_rows.values())

    async def round(self, token: str, round_id: str) -> dict[str, Any]:
        self._operator(token)
        if round_id not in self.round_rows:
            raise NotFound(round_id)
        return self.round_rows[round_id]

    async def change_round(
        self, token: str, round_id: str, dates: dict[str, datetime], reason: str
    ) -> dict[str, Any]:
        actor = self._operator(token)
        found = await self.round(token, round_id)
        if not 3 <= len(reason) <= 2000:
            raise Refused(422, {"code": "invalid_body", "errors": [{"field": "reason"}]})
        if found["closes_at"] < self.now:
            raise Refused(
                409,
                {
                    "code": "round_closed",
                    "title": f"round {round_id} is closed; its dates can no longer change",
                    "title_th": f"รอบ {round_id} ปิดแล้ว เปลี่ยนกำหนดการไม่ได้",
                },
            )
        found.update(dates)
        changes = {name: moment.isoformat() for name, moment in dates.items()}
        self._audit(actor, "round.change_dates", f"round:{round_id}", {**changes, "reason": reason})
        return found

    async def extensions(self, token: str, round_id: str) -> list[dict[str, Any]]:
        self._operator(token)
        # As the client gives them: times as datetimes.
        return [dict(e) for e in self.extension_rows if e["round_id"] == round_id]

    async def grant_extension(
        self, token: str, round_id: str, center_id: str, until: datetime, reason: str
    ) -> dict[str, Any]:
        actor = self._operator(token)
        await self.round(token, round_id)
        if center_id not in self.centers:
            raise NotFound(center_id)
        if until < self.now:
            errors = [{"field": "until", "reason": "lies in the past"}]
            raise Refused(422, {"code": "invalid_body", "errors": errors})
        row = {
            "round_id": round_id,
            "center_id": center_id,
            "until": until,
            "reason": reason,
            "granted_by": actor,
            "granted_at": self.now,
        }
        self.extension_rows.append(row)
        details = {"until": until.isoformat(), "reason": reason}
        self._audit(actor, "extension.grant", f"round:{round_id}/center:{center_id}", details)
        return {"round_id": round_id, "center_id": center_id}

    async def exports(self, token: str, round_id: str) -> dict[str, Any]:
        self._operator(token)
        await self.round(token, round_id)
        found = self.export_rows[round_id]
        return {
            "round_id": round_id,
            "exports": [dict(e) for e in found["exports"]],
            "requests": [dict(r) for r in found["requests"]],
        }

    async def request_export(self, token: str, round_id: str) -> dict[str, Any]:
        actor = self._operator(token)
        await self.round(token, round_id)
        request_id = secrets.token_hex(8)
        self.export_rows[round_id]["requests"].append(
            {"request_id": request_id, "requested_by": actor, "requested_at": self.now}
        )
        self._audit(actor, "export.request", f"round:{round_id}", {"request_id": request_id})
        return {"request_id": request_id, "round_id": round_id, "status": "requested"}

    # --- The audit log ----------------------------------------------------------------

    async def audit(
        self,
        token: str,
        target: str = "",
        actor: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        before: str = "",
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        self._operator(token)
        found = []
        for entry in reversed(self.audit_rows):
            at = datetime.fromisoformat(entry["at"])
            if (
                entry["target"].startswith(target)
                and entry["actor"].startswith(actor)
                and (since is None or at >= since)
                and (until is None or at < until)
                and (not before or entry["id"] < int(before))
            ):
                found.append({**entry, "at": at})
        return found[:limit]

    # --- Accounts ---------------------------------------------------------------------

    async def accounts(  # type: ignore[misc,override]  # the field made way (__post_init__)
        self, token: str, q: str = "", kind: str = "", limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        self._operator(token)
        found = [
            a
            for a in sorted(self.account_rows, key=lambda a: a["email"])
            if q.lower() in a["email"].lower() and (not kind or a["kind"] == kind)
        ]
        return {"total": len(found), "accounts": found[offset : offset + limit]}

    async def import_accounts(self, token: str, content: bytes) -> dict[str, Any]:
        actor = self._operator(token)
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        errors = []
        for line, row in enumerate(rows, start=2):
            if "@" not in (row.get("email") or ""):
                errors.append(
                    {
                        "line": line,
                        "column": "email",
                        "message": f"{row.get('email')!r} is not an e-mail address",
                        "message_th": f"{row.get('email')!r} ไม่ใช่อีเมล",
                    }
                )
            if row.get("role") not in KINDS:
                errors.append(
                    {
                        "line": line,
                        "column": "role",
                        "message": "role must be center, office or operator",
                        "message_th": "role ต้องเป็น center, office หรือ operator",
                    }
                )
        if errors:
            raise Refused(422, {"code": "invalid_file", "errors": errors})
        known = {a["email"] for a in self.account_rows}
        added = 0
        for row in rows:
            if row["email"] not in known:
                added += 1
                self.account_rows.append(
                    {
                        "email": row["email"],
                        "kind": row["role"],
                        "disabled": False,
                        "memberships": [{"scope": row["scope"], "label_th": row["scope"]}],
                    }
                )
                self._audit(actor, "account.create", f"account:{row['email']}", {})
        return {"rows": len(rows), "accounts_added": added, "memberships_added": added}

    async def disable_account(self, token: str, email: str, reason: str) -> dict[str, Any]:
        actor = self._operator(token)
        found = next((a for a in self.account_rows if a["email"] == email), None)
        if found is None:
            raise NotFound(email)
        found["disabled"] = True
        self._audit(actor, "account.disable", f"account:{email}", {"reason": reason})
        return found
