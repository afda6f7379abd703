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
    """Loaded for a batch in its transaction (``load``), kept
    current as the batch's own scores are written (``note``), so each event reads what it
    would have read on its own. A center and round not loaded is read from the database."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], LatestResult] = {}
        self._loaded: set[tuple[str, str]] = set()

    async def load(
        self, conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
    ) -> None:
        pairs = set()
        for event in events:
            try:
                pairs.add((event.data.center_id, previous_round_id(event.data.round_id)))
            except ValueError:
                continue  # a malformed round id fails its own event, not the batch
        self._latest = await repository.latest_results(conn, pairs) if pairs else {}
        self._loaded = pairs

    async def of(
        self, conn: asyncpg.Connection, center_id: str, round_id: str
    ) -> PreviousResult | None:
        if (center_id, round_id) not in self._loaded:
            return await repository.latest_result(conn, center_id, round_id)
        latest = self._latest.get((center_id, round_id))
        return None if latest is None else latest.result

    def note(self, score: SubmissionScored) -> None:
        """A score this batch wrote: the latest of its center and round if no later one is."""
        key = (score.center_id, score.round_id)
        if key not in self._loaded:
            return
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
