"""The fake intake of offices (tests/support/fake_intake_offices.py) with evidence files,
written by hand after issue 18's contract (never with intake's code): the type from the
first bytes (PDF, JPEG, PNG, WebP; 415 otherwise), 10 MiB a file (413), 20 files an item
(409), a center's quota per round (413), the same bytes for the same item answering the
file already there (200), an open round (409 ``round_closed`` once ``closed``), object
storage down (503: IntakeUnavailable), who may read a file (its center, the offices above
it, operators; 404 otherwise), deleting a file a submitted version lists (409)."""

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from services.portal.adapters.intake import (
    FileStream,
    IntakeUnavailable,
    NotFound,
    Refused,
)
from tests.support.fake_intake_offices import FakeIntakeOffices

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj\n<<>>\nendobj\n%%EOF\n"


def kind_of(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class FakeIntakeEvidence(FakeIntakeOffices):
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    content: dict[str, bytes] = field(default_factory=dict)
    quota: int = 300 * MIB
    closed: bool = False
    storage_down: bool = False
    # sizes of the pieces an upload arrived in (to see it was streamed)
    pieces: list[list[int]] = field(default_factory=list)

    async def upload_evidence(
        self,
        token: str,
        round_id: str,
        item_code: str,
        name: str,
        body: AsyncIterator[bytes],
        size: int,
    ) -> dict[str, Any]:
        if self._scope(token) is not None:
            raise Refused(403, {"code": "forbidden"})
        center_id = self.sessions[token]
        if size > 10 * MIB:
            raise Refused(413, {"code": "file_too_large", "limit": 10 * MIB})
        if self.closed:
            raise Refused(409, {"code": "round_closed"})
        if item_code not in {i.code for i in (await self.standard(token)).items}:
            raise NotFound(item_code)
        pieces: list[int] = []
        data = b""
        async for chunk in body:
            pieces.append(len(chunk))
            data += chunk
            if len(data) > 10 * MIB:
                raise Refused(413, {"code": "file_too_large", "limit": 10 * MIB})
        self.pieces.append(pieces)
        if self.storage_down:
            raise IntakeUnavailable("object storage: 503")
        content_type = kind_of(data[:16])
        if content_type is None:
            raise Refused(415, {"code": "unsupported_type", "allowed": ["PDF", "JPEG", "PNG"]})
        sha256 = hashlib.sha256(data).hexdigest()
        mine = [
            f
            for f in self.evidence.values()
            if f["center_id"] == center_id and f["round_id"] == round_id
        ]
        same = [f for f in mine if f["item_code"] == item_code and f["sha256"] == sha256]
        if same:
            return dict(same[0])
        if len([f for f in mine if f["item_code"] == item_code]) >= 20:
            raise Refused(409, {"code": "too_many_files", "limit": 20})
        if sum(f["size"] for f in mine) + len(data) > self.quota:
            raise Refused(413, {"code": "quota_exceeded"})
        file_id = str(uuid4())
        self.evidence[file_id] = {
            "file_id": file_id,
            "round_id": round_id,
            "center_id": center_id,
            "item_code": item_code,
            "name": name[:200],
            "content_type": content_type,
            "size": len(data),
            "sha256": sha256,
            "uploaded_at": self.now,
            "referenced": False,
        }
        self.content[file_id] = data
        return dict(self.evidence[file_id])

    async def evidence_list(
        self, token: str, round_id: str, center_id: str | None = None
    ) -> list[dict[str, Any]]:
        if self._scope(token) is None:
            center_id = self.sessions[token]
        elif center_id is None or not self._readable(token, center_id):
            raise NotFound(str(center_id))
        return [
            dict(f)
            for f in self.evidence.values()
            if f["center_id"] == center_id and f["round_id"] == round_id
        ]

    def _file(self, token: str, file_id: str) -> dict[str, Any]:
        found = self.evidence.get(file_id)
        if found is None or not self._readable(token, found["center_id"]):
            raise NotFound(file_id)
        return found

    async def evidence_file(self, token: str, file_id: str) -> dict[str, Any]:
        return dict(self._file(token, file_id))

    async def evidence_content(self, token: str, file_id: str) -> FileStream:
        found = self._file(token, file_id)
        data = self.content[file_id]

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 64 * 1024):
                yield data[start : start + 64 * 1024]

        ascii_name = found["name"].encode("ascii", "replace").decode().replace('"', "_")
        return FileStream(
            content_type=found["content_type"],
            disposition=f'attachment; filename="{ascii_name}"',
            chunks=chunks(),
            length=len(data),
            etag=f'"{found["sha256"]}"',
        )

    async def delete_evidence(self, token: str, file_id: str) -> None:
        found = self._file(token, file_id)
        if self._scope(token) is not None:
            raise Refused(403, {"code": "forbidden"})
        if found["referenced"]:
            raise Refused(409, {"code": "file_referenced"})
        del self.evidence[file_id]
        del self.content[file_id]

    async def submit(self, token: str, report: str, idempotency_key: str) -> dict[str, Any]:
        center_id = self.sessions.get(token, "")
        items = json.loads(report)["checklist"]["items"]
        for i, item in enumerate(items):
            for j, file_id in enumerate(item.get("files", [])):
                found = self.evidence.get(file_id)
                if (
                    found is None
                    or found["center_id"] != center_id
                    or found["item_code"] != item["code"]
                ):
                    raise Refused(
                        422,
                        {"code": "invalid_report", "field": f"checklist.items[{i}].files[{j}]"},
                    )
        receipt = await super().submit(token, report, idempotency_key)
        for item in items:
            for file_id in item.get("files", []):
                self.evidence[file_id]["referenced"] = True
        return receipt


def fake_with_evidence(
    centers: dict[str, dict[str, Any]],
    accounts: dict[str, str],
    offices: dict[str, str | None],
    now: datetime | None = None,
) -> FakeIntakeEvidence:
    from datetime import UTC

    return FakeIntakeEvidence(
        centers=dict(centers),
        accounts=accounts,
        office_accounts=offices,
        now=now or datetime.now(UTC),
    )
