"""The survey service as the portal sees it, in memory: a hand-written fake of the portal's
``SurveyClient`` (tally reads, posters) for tests of the portal's pages alone. Citizens'
answers are folded here by hand (``answer``), one response a call, each a new revision, as
the tallier does; ``down`` makes every read fail as an unreachable service does."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.portal.adapters.intake import FileStream, NotFound
from services.portal.adapters.survey import SurveyUnavailable
from services.portal.domain.survey import Tally

# A small but real PDF (one empty A4 page): what the browser is given is a PDF.
POSTER = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class FakeSurvey:
    # the centers the survey service knows (a poster for each)
    centers: set[str]
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    down: bool = False
    reads: list[tuple[str, str]] = field(default_factory=list)
    posters: list[str] = field(default_factory=list)

    def answer(
        self,
        center_id: str,
        round_id: str,
        ratings: dict[str, int],
        at: datetime | None = None,
        standard: str = "gecc-maintenance-2570",
    ) -> Tally:
        """One citizen's answers folded into the center's tally in the round."""
        at = at or datetime.now(UTC)
        before = self.tallies.get((center_id, round_id))
        counts = {code: list(c) for code, c in (before.counts if before else {}).items()}
        for code, rating in ratings.items():
            counts.setdefault(code, [0] * 5)[rating - 1] += 1
        tally = Tally(
            center_id=center_id,
            round_id=round_id,
            standard=standard,
            responses=(before.responses if before else 0) + 1,
            counts={code: tuple(c) for code, c in counts.items()},
            revision=(before.revision if before else 0) + 1,
            last_response_at=at,
            tallied_at=datetime.now(UTC),
        )
        self.tallies[(center_id, round_id)] = tally
        return tally

    def many(
        self, center_id: str, round_id: str, questions: list[str], ratings: list[int]
    ) -> Tally:
        """One response per rating in ``ratings``, the same rating for every question."""
        tally = None
        for rating in ratings:
            tally = self.answer(center_id, round_id, {q: rating for q in questions})
        assert tally is not None
        return tally

    async def tally(self, center_id: str, round_id: str) -> Tally | None:
        if self.down:
            raise SurveyUnavailable("the fake survey service is down")
        self.reads.append((center_id, round_id))
        return self.tallies.get((center_id, round_id))

    async def poster(self, center_id: str) -> FileStream:
        if self.down:
            raise SurveyUnavailable("the fake survey service is down")
        if center_id not in self.centers:
            raise NotFound(center_id)
        self.posters.append(center_id)

        async def chunks() -> AsyncIterator[bytes]:
            yield POSTER[:20]
            yield POSTER[20:]

        return FileStream(
            content_type="application/pdf",
            disposition=f'attachment; filename="poster-{center_id}.pdf"',
            chunks=chunks(),
            length=len(POSTER),
        )
