"""Intake as the portal sees it, in memory: a hand-written fake of the portal's
``IntakeClient`` for tests of the portal's pages alone (the end-to-end tests use the real
intake). It keeps the rules the pages rely on: a link works once, a center sees only its
own submissions (404 otherwise), the same Idempotency-Key and report answer the same
receipt."""

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from services.portal.adapters.intake import (
    Account,
    NotFound,
    OpenedSession,
    Refused,
    SessionEnded,
)
from shared.standards import Standard
from tests.support.samples import standard

ROUND = "FY2570-H1"


@dataclass
class FakeIntake:
    centers: dict[str, dict[str, Any]]
    # e-mail -> center id
    accounts: dict[str, str]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    codes: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    def link_for(self, email: str) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = email
        return code

    async def request_sign_in(self, email: str, locale: str, client: str) -> None:
        self.requested.append(email)
        if email in self.accounts:
            self.link_for(email)

    async def open_session(self, code: str, scope: str | None, client: str) -> OpenedSession:
        email = self.codes.pop(code, None)
        if email is None:
            raise Refused(410, {"code": "link_used_or_expired"})
        center_id = self.accounts[email]
        token = f"gecc_session_{secrets.token_urlsafe(16)}"
        self.sessions[token] = center_id
        return OpenedSession(
            token=token,
            expires_at=self.now + timedelta(hours=8),
            account=Account(email, "center", center_id, None, self.centers[center_id]["name_th"]),
        )

    async def close_session(self, token: str) -> None:
        self.sessions.pop(token, None)

    def _center(self, token: str) -> str:
        center_id = self.sessions.get(token)
        if center_id is None:
            raise SessionEnded(token)
        return center_id

    async def center(self, token: str, center_id: str) -> dict[str, Any]:
        if self._center(token) != center_id:
            raise NotFound(center_id)
        return self.centers[center_id]

    async def center_rounds(self, token: str, center_id: str) -> list[dict[str, Any]]:
        if self._center(token) != center_id:
            raise NotFound(center_id)
        found = next((s for s in self.submissions.values() if s["center_id"] == center_id), None)
        latest = found["versions"][-1] if found else None
        source = latest["report"]["satisfaction"].get("source", {}) if latest else {}
        kind = source.get("kind", "center_survey") if latest else None
        return [
            {
                "round": {
                    "id": ROUND,
                    "period_start": "2026-10-01",
                    "period_end": "2027-03-31",
                    "opens_at": (self.now - timedelta(days=3)).isoformat(),
                    "due_at": (self.now + timedelta(days=12)).isoformat(),
                    "closes_at": (self.now + timedelta(days=26)).isoformat(),
                },
                "submission_id": found["id"] if found else None,
                "latest_version": latest["version"] if latest else None,
                "receipt_number": latest["receipt_number"] if latest else None,
                "received_at": None,
                "late": latest["late"] if latest else None,
                "status": latest["status"] if latest else None,
                "verdict": latest["verdict"] if latest else None,
                "extension_until": None,
                # where the latest version's satisfaction figures come from (issue 19)
                "satisfaction_source": kind,
                "survey_responses": source.get("responses"),
            }
        ]

    async def standard(self, token: str, standard_id: str | None = None) -> Standard:
        self._center(token)
        return standard()

    async def submission(self, token: str, submission_id: str) -> dict[str, Any]:
        found = self._submission(token, submission_id)
        versions = [
            {k: v for k, v in version.items() if k != "report"} for version in found["versions"]
        ]
        return {**found, "versions": versions}

    async def version(self, token: str, submission_id: str, number: int) -> dict[str, Any]:
        found = self._submission(token, submission_id)
        if not 1 <= number <= len(found["versions"]):
            raise NotFound(f"{submission_id}/v{number}")
        head = {k: v for k, v in found.items() if k != "versions"}
        return {**head, **found["versions"][number - 1]}

    def _submission(self, token: str, submission_id: str) -> dict[str, Any]:
        found = self.submissions.get(submission_id)
        if found is None or found["center_id"] != self._center(token):
            raise NotFound(submission_id)
        return found

    async def submit(self, token: str, report: str, idempotency_key: str) -> dict[str, Any]:
        center_id = self._center(token)
        earlier = self.keys.get((center_id, idempotency_key))
        if earlier is not None:
            if earlier[0] != report:
                raise Refused(422, {"code": "idempotency_key_reused"})
            return earlier[1]
        found = next((s for s in self.submissions.values() if s["center_id"] == center_id), None)
        if found is None:
            found = {"id": str(uuid4()), "center_id": center_id, "round_id": ROUND, "versions": []}
            self.submissions[found["id"]] = found
        number = len(found["versions"]) + 1
        receipt = {
            "submission_id": found["id"],
            "version": number,
            "receipt_number": f"{ROUND}/{center_id}/v{number}",
            "round_id": ROUND,
            "received_at": self.now.isoformat(),
            "late": False,
            "extension": False,
            "status": "received",
        }
        found["versions"].append(
            {
                **receipt,
                "received_at": self.now,
                "verdict": None,
                "scorecard": None,
                "scored_at": None,
                "report": json.loads(report),
            }
        )
        self.keys[(center_id, idempotency_key)] = (report, receipt)
        return receipt

    async def evidence_list(
        self, token: str, round_id: str, center_id: str | None = None
    ) -> list[dict[str, Any]]:
        """No evidence files here (tests/support/fake_intake_evidence.py has them)."""
        return []
