"""The previous round's result of each center in a batch of received submissions, read in
one statement for the whole batch instead of one per submission: in a round's burst the
scorer waits on its round trips to PostgreSQL, and the received -> scored lag with it."""

from collections.abc import Sequence

import asyncpg

from services.scoring.adapters import repository
from services.scoring.adapters.repository import LatestResult
from services.scoring.domain.history import previous_round_id
from shared.events import Envelope, PreviousResult, SubmissionReceived, SubmissionScored


class PreviousResults:
    """One batch's: read in its transaction (``of_batch``) and kept current with the scores
    the batch makes (``note``), so each event sees what it would have read on its own."""

    def __init__(self, latest: dict[tuple[str, str], LatestResult]) -> None:
        self._latest = latest

    @classmethod
    async def of_batch(
        cls, conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
    ) -> "PreviousResults":
        pairs = set()
        for event in events:
            try:
                pairs.add((event.data.center_id, previous_round_id(event.data.round_id)))
            except ValueError:
                continue  # a malformed round id fails its own event, not the batch
        return cls(await repository.latest_results(conn, pairs) if pairs else {})

    def of(self, center_id: str, round_id: str) -> PreviousResult | None:
        latest = self._latest.get((center_id, round_id))
        return None if latest is None else latest.result

    def note(self, score: SubmissionScored) -> None:
        """A score the batch made: the latest of its center and round unless a later is."""
        key = (score.center_id, score.round_id)
        current = self._latest.get(key)
        if current is None or (score.version, score.score_version) >= (
            current.version,
            current.score_version,
        ):
            self._latest[key] = LatestResult(
                score.version,
                score.score_version,
                PreviousResult(
                    round_id=score.round_id,
                    verdict=score.verdict,
                    satisfaction_percent=score.satisfaction.overall_percent,
                    checklist_percent=score.checklist.overall_percent,
                ),
            )
