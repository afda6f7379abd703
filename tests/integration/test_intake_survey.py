"""Intake and the citizen survey (spec §11), on the real broker and database: the tallies it
consumes (exactly once, the highest revision kept), the reports it refuses for claiming more
responses than the latest tally it saw, and the source carried by the event it publishes,
its version reads and its completeness lists."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.events import Envelope, SubmissionReceived, SurveyTally, new_event
from shared.topics import Topic
from tests.integration.test_intake_api import ROUND, Intake, auth, start_intake
from tests.support.isolation import Isolated
from tests.support.kafka import read_all, send
from tests.support.polling import eventually
from tests.support.samples import citizen_survey, submission_body

AT = datetime(2027, 4, 2, 2, 13, tzinfo=UTC)
# 400 answers to every question: a report of 400 respondents.
COUNTS = [0, 2, 20, 150, 228]


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[Intake]:
    async for running in start_intake(isolated):
        yield running


def tally(center: str, revision: int, responses: int) -> Envelope[SurveyTally]:
    return new_event(
        SurveyTally(
            center_id=center,
            round_id=ROUND,
            standard="gecc-maintenance-2570",
            responses=responses,
            counts={"S1": [0, 0, 0, 0, responses]},
            revision=revision,
            last_response_at=AT,
            tallied_at=AT,
        ),
        "survey",
    )


async def publish(intake: Intake, *tallies: Envelope[SurveyTally]) -> None:
    isolated = intake.isolated
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SURVEY_TALLY),
        [(f"{t.data.center_id}/{t.data.round_id}".encode(), t.model_dump_json().encode())
         for t in tallies],
    )  # fmt: skip


async def kept(intake: Intake) -> dict[str, tuple[int, int]]:
    rows = await intake.fetch("SELECT center_id, revision, responses FROM survey_tallies")
    return {r["center_id"]: (r["revision"], r["responses"]) for r in rows}


def citizen_report(responses: int = 400) -> dict[str, Any]:
    return submission_body(
        ROUND, respondents=responses, counts=COUNTS, source=citizen_survey(responses)
    )


async def test_the_highest_revision_of_each_tally_is_kept_each_event_once(intake: Intake) -> None:
    third = tally("GECC-0001", 3, 30)
    await publish(
        intake,
        tally("GECC-0001", 1, 10),
        third,
        tally("GECC-0001", 2, 20),  # overtaken: changes nothing
        third,  # delivered again: once
        tally("GECC-0002", 1, 5),
    )
    assert await eventually(lambda: kept(intake), lambda k: len(k) == 2) == {
        "GECC-0001": (3, 30),
        "GECC-0002": (1, 5),
    }
    # The same event again, even altered, is not taken twice; a higher revision is.
    altered = third.model_copy(update={"data": third.data.model_copy(update={"revision": 9})})
    await publish(intake, altered, tally("GECC-0002", 2, 6))
    await eventually(lambda: kept(intake), lambda k: k["GECC-0002"] == (2, 6))
    assert (await kept(intake))["GECC-0001"] == (3, 30)
    inbox = await intake.fetch("SELECT event_id FROM inbox WHERE event_id = $1", third.event_id)
    assert len(inbox) == 1


async def test_a_citizen_survey_claim_beyond_the_latest_tally_seen_is_refused(
    intake: Intake,
) -> None:
    unseen = await intake.submit("a", citizen_report(400))
    assert unseen.status_code == 422
    assert unseen.json()["errors"] == [
        {
            "field": "satisfaction.source.responses",
            "reason": f"no tally of this center's citizen survey in round {ROUND} has been seen",
        }
    ]
    await publish(intake, tally("GECC-0001", 5, 399))
    await eventually(lambda: kept(intake), lambda k: "GECC-0001" in k)
    beyond = await intake.submit("a", citizen_report(400), key="taken-from-the-tally")
    assert beyond.status_code == 422
    assert beyond.json()["errors"][0]["field"] == "satisfaction.source.responses"
    assert (
        "400 responses exceed the 399 of the latest tally seen (revision 5"
        in (beyond.json()["errors"][0]["reason"])
    )
    # Another center's tally is not this center's.
    assert (await intake.submit("b", citizen_report(400))).status_code == 422
    unequal = submission_body(ROUND, respondents=400, counts=COUNTS, source=citizen_survey(399))
    refused = await intake.submit("a", unequal)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "satisfaction.source.responses"
    assert await intake.fetch("SELECT * FROM submission_versions") == []
    await publish(intake, tally("GECC-0001", 6, 400))
    await eventually(lambda: kept(intake), lambda k: k["GECC-0001"] == (6, 400))
    # Sent again once intake has seen the tally, with the same key: nothing was stored.
    taken = await intake.submit("a", citizen_report(400), key="taken-from-the-tally")
    assert (taken.status_code, taken.json()["version"]) == (201, 1)


async def test_the_source_is_in_the_event_the_version_reads_and_the_completeness_lists(
    intake: Intake,
) -> None:
    await publish(intake, tally("GECC-0001", 57, 412))
    await eventually(lambda: kept(intake), lambda k: "GECC-0001" in k)
    citizen = await intake.submit("a", submission_body(ROUND, source=citizen_survey(412, 57)))
    own = await intake.submit("b")  # no source: the center's own survey
    assert (citizen.status_code, own.status_code) == (201, 201)
    isolated = intake.isolated
    topic = isolated.topics(Topic.SUBMISSION_RECEIVED)
    records = await read_all(isolated.kafka_bootstrap, topic, 2)
    events = [Envelope[SubmissionReceived].model_validate_json(r.value) for r in records]
    by_center = {e.data.center_id: e for e in events}
    assert {e.schema_version for e in events} == {3}
    raw = [json.loads(r.value)["data"] for r in records]
    sources = {data["center_id"]: data["satisfaction"]["source"] for data in raw}
    assert sources == {
        "GECC-0001": citizen_survey(412, 57),
        "GECC-0002": {"kind": "center_survey"},  # explicit in the event, though not sent
    }
    assert by_center["GECC-0002"].data.satisfaction.source.kind == "center_survey"

    operator = auth(intake.tokens["operator"])
    for answer, kind, responses in ((citizen, "citizen_survey", 412), (own, "center_survey", None)):
        submission_id = answer.json()["submission_id"]
        whole = await intake.client.get(f"/v1/submissions/{submission_id}", headers=operator)
        version = whole.json()["versions"][0]
        assert (version["satisfaction_source"], version["survey_responses"]) == (kind, responses)
        one = await intake.client.get(
            f"/v1/submissions/{submission_id}/versions/1", headers=operator
        )
        assert (one.json()["satisfaction_source"], one.json()["survey_responses"]) == (
            kind,
            responses,
        )
    rounds = await intake.client.get("/v1/centers/GECC-0001/rounds", headers=operator)
    this = next(r for r in rounds.json() if r["round"]["id"] == ROUND)
    assert (this["satisfaction_source"], this["survey_responses"]) == ("citizen_survey", 412)
    url = f"/v1/rounds/{ROUND}/completeness"
    listed = await intake.client.get(url, params={"lists": "centers"}, headers=operator)
    assert {
        c["center_id"]: (c["satisfaction_source"], c["survey_responses"])
        for c in listed.json()["centers"]
    } == {
        "GECC-0001": ("citizen_survey", 412),
        "GECC-0002": ("center_survey", None),
        "GECC-0003": (None, None),
    }
    table = await intake.client.get(
        url, params={"format": "csv", "view": "centers"}, headers=operator
    )
    header, first, *_ = table.content.decode("utf-8-sig").splitlines()
    assert header.endswith(",satisfaction_source,survey_responses")
    assert first.endswith(",citizen_survey,412")


async def test_an_amendment_may_change_the_source(intake: Intake) -> None:
    first = await intake.submit("a")
    await publish(intake, tally("GECC-0001", 1, 412))
    await eventually(lambda: kept(intake), lambda k: "GECC-0001" in k)
    amended = await intake.submit("a", submission_body(ROUND, source=citizen_survey(412)))
    assert (first.status_code, amended.status_code) == (201, 201)
    rows = await intake.fetch(
        "SELECT version, satisfaction_source, survey_responses FROM submission_versions"
        " ORDER BY version"
    )
    assert [tuple(r) for r in rows] == [(1, "center_survey", None), (2, "citizen_survey", 412)]
