"""An export to the PMO system and the steps of its life:

pending → delivering (built: its records, counts, batches, closing call and its evidence
          package fixed)
        → reconciled | mismatch (the PMO system's counts against ours, evidence files
          verified among them), or failed (refused for good); a temporary failure counts an
          attempt and stays delivering.

Each step returns the export as it is after it; the repository stores the step.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.export.domain.batches import Kind
from services.export.domain.dataset import STATUSES
from shared.events import ExportState

Trigger = Literal["round_closed", "operator", "correction"]
EVIDENCE_COUNTS = ("evidence_files", "evidence_bytes")


class StepNotAllowed(ValueError):
    """A step the export's state does not allow (a bug in the caller, not bad input)."""


@dataclass(frozen=True)
class Export:
    id: UUID
    round_id: str
    kind: Kind
    trigger: Trigger
    request_id: UUID | None
    state: ExportState
    records: int
    batches: int
    batches_acknowledged: int
    attempts: int
    last_error: str | None
    counts: dict[str, int]
    """Ours: records by status and ``total``."""
    acknowledged: dict[str, int]
    """Theirs, from the manifest's answer: batches, records and records by status."""
    manifest_call: bytes | None
    """The closing call's exact bytes, fixed by the build."""
    directory: str | None
    created_at: datetime
    updated_at: datetime
    evidence_manifest_call: bytes | None = None
    """The evidence package's manifest, sent after its files; None: an export built before
    packages (nothing to send)."""

    def built(
        self,
        records: int,
        counts: Mapping[str, int],
        batches: int,
        manifest_call: bytes,
        directory: str,
        evidence_manifest_call: bytes | None = None,
    ) -> "Export":
        self._must_be("pending", "build")
        return replace(
            self,
            state="delivering",
            records=records,
            counts=dict(counts),
            batches=batches,
            manifest_call=manifest_call,
            directory=directory,
            evidence_manifest_call=evidence_manifest_call,
        )

    def batch_acknowledged(self) -> "Export":
        self._must_be("delivering", "acknowledge a batch")
        if self.batches_acknowledged >= self.batches:
            raise StepNotAllowed(f"export {self.id}: all {self.batches} batches acknowledged")
        return replace(self, batches_acknowledged=self.batches_acknowledged + 1)

    def attempt_failed(self, error: str, *, final: bool) -> "Export":
        """One more attempt, failed: tried again later, or, when ``final``, failed for good."""
        self._must_be("delivering", "fail an attempt")
        state: ExportState = "failed" if final else self.state
        return replace(self, state=state, attempts=self.attempts + 1, last_error=error)

    def delivered(self, acknowledged: Mapping[str, int], note: str | None = None) -> "Export":
        """Reconciled when the PMO system holds every batch and exactly our counts, and, with
        an evidence package, every file of it verified; ``note``: what was given up on."""
        self._must_be("delivering", "reconcile")
        matches = (
            acknowledged.get("batches") == self.batches
            and acknowledged.get("records") == self.records
            and all(acknowledged.get(s, 0) == self.counts.get(s, 0) for s in STATUSES)
            and all(
                acknowledged.get(k) == self.counts[k] for k in EVIDENCE_COUNTS if k in self.counts
            )
        )
        return replace(
            self,
            state="reconciled" if matches else "mismatch",
            acknowledged=dict(acknowledged),
            attempts=self.attempts + 1,
            last_error=None if matches else note,
        )

    def _must_be(self, state: ExportState, step: str) -> None:
        if self.state != state:
            raise StepNotAllowed(f"export {self.id} is {self.state}: cannot {step}")


def evidence_acknowledged(answer: Mapping[str, Any]) -> dict[str, int]:
    """The PMO system's answer to the evidence manifest as counts (-1 for one left out)."""
    return {
        "evidence_files": int(answer.get("files_verified", -1)),
        "evidence_bytes": int(answer.get("bytes_verified", -1)),
    }


def acknowledged_counts(answer: Mapping[str, Any]) -> dict[str, int]:
    """The PMO system's answer to the manifest as counts (-1 for a count it left out)."""
    return {
        "batches": int(answer.get("batches_received", -1)),
        "records": int(answer.get("records_received", -1)),
        **{k: int(v) for k, v in dict(answer.get("records_by_status", {})).items()},
    }
