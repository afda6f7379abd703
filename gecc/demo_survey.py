"""The citizen survey in `gecc demo` (spec §11): generated citizens answer the survey page of a
few sample centers during the round, as a phone would (the public page: GET the form, POST
the answers, each citizen a device with its own cookies), and one center's report takes its
figures from the survey: the tally as the survey service's read API gives it, sent to intake
with ``satisfaction.source`` ``citizen_survey``.

The demo reads and writes only through the services' HTTP APIs (never their tables)."""

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx

from gecc.demo_reports import report
from gecc.demo_schedule import at_their_moments
from gecc.stack_client import StackClient
from services.intake.domain.centers import Center
from shared.clock import Clock
from shared.standards import Standard

# How many sample centers' citizens answer, and how many citizens each (a handful a virtual
# day: well within the survey page's per-address limit, every citizen here sharing 127.0.0.1).
SURVEY_CENTERS = 4
CITIZENS_PER_CENTER = 24
# Citizens answer during the round's first days; the survey-sourced report goes after.
ANSWER_WITHIN = timedelta(days=10)
REPORT_AT = timedelta(days=11)
CONCURRENCY = 8
# How people rate a center that serves them well: mostly 4 and 5.
RATINGS = (1, 2, 3, 4, 5)
WEIGHTS = (0.02, 0.03, 0.10, 0.35, 0.50)
TALLY_ATTEMPTS = 30


@dataclass(frozen=True)
class Citizen:
    at: timedelta  # after the round's start, in virtual time
    center_id: str


@dataclass
class SurveyResult:
    centers: list[str] = field(default_factory=list)
    answered: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    # the center whose report took its figures from the survey, and how many responses
    report_center: str = ""
    report_responses: int = 0
    report_refused: str = ""


def survey_centers(centers: Sequence[Center], hands_on: Center, count: int) -> list[Center]:
    """The hands-on center first (a person tries its survey page after the demo), then
    others under the same parent office (its office sees them)."""
    near = [c for c in centers if c.office_path == hands_on.office_path and c.id != hands_on.id]
    rest = [c for c in centers if c.id != hands_on.id and c not in near]
    return [hands_on, *(near + rest)[: count - 1]]


def plan_citizens(
    centers: Sequence[Center], per_center: int, within: timedelta, rng: random.Random
) -> list[Citizen]:
    """When each citizen answers, in virtual time after the round's start, in order."""
    return sorted(
        (
            Citizen(within * rng.random(), center.id)
            for center in centers
            for _ in range(per_center)
        ),
        key=lambda c: c.at,
    )


class _Form(HTMLParser):
    """The first form of a page that posts: its action, hidden values, radio groups and
    other fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.empty: list[str] = []
        self._inside = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and not self._done and found.get("method", "").lower() == "post":
            self._inside = True
            self.action = found.get("action", "")
        if not self._inside or tag not in ("input", "textarea"):
            return
        name, kind = found.get("name", ""), found.get("type", "text").lower()
        if not name:
            return
        if kind == "hidden":
            self.hidden[name] = found.get("value", "")
        elif kind == "radio":
            self.radios.setdefault(name, []).append(found.get("value", ""))
        elif kind not in ("submit", "button", "checkbox", "file", "image", "reset"):
            self.empty.append(name)  # the honeypot among them: a person leaves it empty

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside, self._done = False, True


def answers(html: str, rng: random.Random) -> tuple[str | None, dict[str, str]]:
    """The form's action and what a citizen posts: every hidden value as given, one rating
    for each question (mostly 4 and 5), every other field left empty."""
    form = _Form()
    form.feed(html)
    posted = {**{name: "" for name in form.empty}, **form.hidden}
    for name, values in form.radios.items():
        ratings = [v for v in values if v in {str(r) for r in RATINGS}]
        if ratings:
            weights = [WEIGHTS[int(v) - 1] for v in ratings]
            posted[name] = rng.choices(ratings, weights=weights)[0]
        else:
            posted[name] = rng.choice(values)
    return form.action, posted


def report_from_tally(
    standard: Standard, round_id: str, tally: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    """A center's report whose satisfaction is the survey's tally (the checklist as the
    demo's other centers fill it in), naming the tally as its source."""
    body = report(standard, round_id, "good", rng)
    counts = tally["counts"]
    body["satisfaction"] = {
        "respondents": tally["responses"],
        "questions": [
            {"code": q.code, "counts": list(counts.get(q.code, [0, 0, 0, 0, 0]))}
            for q in standard.questions
        ],
        "source": {
            "kind": "citizen_survey",
            "responses": tally["responses"],
            "revision": tally["revision"],
            "tallied_at": tally["tallied_at"],
        },
    }
    return body


def survey_page(survey_url: str, center_id: str) -> str:
    return f"{survey_url.rstrip('/')}/s/{center_id}"


async def citizen_answers(
    survey_url: str, citizen: Citizen, rng: random.Random, result: SurveyResult
) -> None:
    """One citizen on their own phone: the form, then the answers (a device of its own:
    a new client, its own cookies)."""
    page = survey_page(survey_url, citizen.center_id)
    async with httpx.AsyncClient(timeout=15, trust_env=False) as phone:
        form = await phone.get(page)
        if form.status_code != 200:
            result.refused[form.status_code] = result.refused.get(form.status_code, 0) + 1
            return
        action, posted = answers(form.text, rng)
        sent = await phone.post(urljoin(page, action or page), data=posted)
    if sent.status_code == 303:
        result.answered += 1
    else:
        result.refused[sent.status_code] = result.refused.get(sent.status_code, 0) + 1


async def citizens_answer(
    survey_url: str,
    clock: Clock,
    start: datetime,
    citizens: Sequence[Citizen],
    rng: random.Random,
    result: SurveyResult,
) -> None:
    """Each citizen at their moment of the round (on the services' accelerated clock)."""

    async def answer(citizen: Citizen) -> None:
        await citizen_answers(survey_url, citizen, rng, result)

    await at_their_moments(clock, start, citizens, lambda c: c.at, answer, CONCURRENCY)


async def report_from_survey(
    stack_client: StackClient,
    intake_url: str,
    token: str,
    center_id: str,
    round_id: str,
    standard: Standard,
    rng: random.Random,
    result: SurveyResult,
) -> None:
    """Send the center's report with the survey's figures. Intake takes a claim only up to
    the latest tally it has consumed, which may be a moment behind the read API: a refusal
    is tried again a few times, each time with the tally read anew."""
    result.report_center = center_id
    async with httpx.AsyncClient(base_url=intake_url, timeout=30, trust_env=False) as intake:
        for _ in range(TALLY_ATTEMPTS):
            tally = await stack_client.survey_tally(center_id, round_id)
            if tally is None or tally["responses"] < 1:
                result.report_refused = "no survey tally"
                await asyncio.sleep(1)
                continue
            sent = await intake.post(
                "/v1/submissions",
                json=report_from_tally(standard, round_id, tally, rng),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"demo-survey-{center_id}-{tally['revision']}",
                },
            )
            if sent.status_code == 201:
                result.report_responses, result.report_refused = tally["responses"], ""
                return
            result.report_refused = f"HTTP {sent.status_code}: {sent.text[:200]}"
            await asyncio.sleep(1)
