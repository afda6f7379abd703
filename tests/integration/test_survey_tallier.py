"""The tallier against the real broker and database: responses become tallies and tally
events, each response once, folded in a process of its own beside the survey's, whose
/metrics and /health show it; what can never be counted is dead-lettered and the partition
flows on; the read API answers the portal only."""

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.survey.app import create_app
from services.survey.settings import SurveySettings
from shared.events import Envelope, SurveyTally
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all, send
from tests.support.polling import eventually
from tests.support.survey import (
    QUESTIONS,
    expected_tallies,
    stored_tallies,
    survey_response,
    tallier_process,
)

SECRET = "test-read-secret"


@dataclass(frozen=True)
class Survey:
    client: httpx.AsyncClient
    isolated: Isolated

    async def metrics(self) -> dict[str, float]:
        text = (await self.client.get("/metrics")).text
        return {
            sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def tally(self, center: str, round_id: str, secret: str = SECRET) -> httpx.Response:
        return await self.client.get(
            f"/v1/centers/{center}/rounds/{round_id}/tally",
            headers={"Authorization": f"Bearer {secret}"},
        )


@pytest.fixture
async def survey(isolated: Isolated) -> AsyncIterator[Survey]:
    app = create_app(
        SurveySettings(
            database_url=isolated.service_url("survey"),
            kafka_bootstrap=isolated.kafka_bootstrap,
            topic_namespace=isolated.namespace,
            read_secret=SECRET,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://survey") as client:
            yield Survey(client, isolated)


async def test_responses_become_tallies_and_tally_events_each_response_once(
    survey: Survey,
) -> None:
    isolated = survey.isolated
    first = survey_response("GECC-0001", ratings=dict.fromkeys(QUESTIONS, 5))
    second = survey_response("GECC-0001", ratings=dict.fromkeys(QUESTIONS, 4))
    other = survey_response("GECC-0002", rounds=["FY2570-FY"])
    responses = [first, first, second, other, first]  # the first one redelivered twice
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SURVEY_RESPONSE),
        [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in responses],
    )

    expected = expected_tallies(responses)
    assert expected[("GECC-0001", "FY2570-H1")][0] == 2
    assert (
        await eventually(
            lambda: stored_tallies(isolated.service_url("survey")), lambda t: t == expected
        )
        == expected
    )

    records = await read_all(isolated.kafka_bootstrap, isolated.topics(Topic.SURVEY_TALLY), 3)
    latest: dict[bytes, SurveyTally] = {}
    for record in records:
        tally = Envelope[SurveyTally].model_validate_json(record.value).data
        assert record.key == f"{tally.center_id}/{tally.round_id}".encode()
        if record.key not in latest or tally.revision > latest[record.key].revision:
            latest[record.key] = tally
    assert {(t.center_id, t.round_id): (t.responses, t.counts) for t in latest.values()} == expected
    h1 = latest[b"GECC-0001/FY2570-H1"]
    assert h1.counts[QUESTIONS[0]] == [0, 0, 0, 1, 1]
    assert h1.standard == first.data.standard
    assert h1.last_response_at == max(first.data.answered_at, second.data.answered_at)

    read = await survey.tally("GECC-0001", "FY2570-H1")
    assert read.status_code == 200, read.text
    assert SurveyTally.model_validate(read.json()) == h1
    # The tallier's process reports its metrics to the survey's twice a second.
    metrics = await eventually(survey.metrics, lambda m: m.get("gecc_survey_tallied_total{}") == 3)
    assert metrics["gecc_survey_tally_lag_seconds_count{}"] == 3
    duplicates = {
        "outcome": "duplicate",
        "service": "survey",
        "topic": isolated.topics(Topic.SURVEY_RESPONSE),
    }
    assert metrics["gecc_events_consumed_total" + json.dumps(duplicates, sort_keys=True)] == 2


async def test_the_read_api_wants_the_read_secret_and_says_404_before_any_response(
    survey: Survey,
) -> None:
    assert (await survey.tally("GECC-0001", "FY2570-H1")).status_code == 404
    wrong = await survey.tally("GECC-0001", "FY2570-H1", secret="guess")
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    bare = await survey.client.get("/v1/centers/GECC-0001/rounds/FY2570-H1/tally")
    assert bare.status_code == 401


async def test_what_can_never_be_counted_is_dead_lettered_and_the_partition_flows_on(
    survey: Survey,
) -> None:
    isolated = survey.isolated
    good = survey_response("GECC-0001")
    out_of_scale = survey_response("GECC-0001", ratings={**dict.fromkeys(QUESTIONS, 5), "S1": 7})
    unknown_question = survey_response("GECC-0001", ratings={"Q99": 3})
    after = survey_response("GECC-0001", ratings=dict.fromkeys(QUESTIONS, 3))
    key = b"GECC-0001"  # one key: one partition, in this order
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SURVEY_RESPONSE),
        [
            (key, good.model_dump_json().encode()),
            (key, b'{"event_id": "not even json'),
            (key, out_of_scale.model_dump_json().encode()),
            (key, unknown_question.model_dump_json().encode()),
            (key, after.model_dump_json().encode()),
        ],
    )
    expected = expected_tallies([good, after])
    assert (
        await eventually(
            lambda: stored_tallies(isolated.service_url("survey")), lambda t: t == expected
        )
        == expected
    )

    dead = await read_all(isolated.kafka_bootstrap, isolated.topics.dead_letter("survey"), 3)
    headers = [{k: v.decode() for k, v in r.headers} for r in dead]
    assert [h["x-gecc-error-reason"] for h in headers] == ["invalid_event", "rejected", "rejected"]
    assert [h["x-gecc-original-offset"] for h in headers] == ["1", "2", "3"]
    assert "outside 1..5 for S1" in headers[1]["x-gecc-error"]
    assert "Q99" in headers[2]["x-gecc-error"]
    assert dead[2].value == unknown_question.model_dump_json().encode()
    metrics = await eventually(survey.metrics, lambda m: m.get("gecc_survey_tallied_total{}") == 2)
    rejected = {
        "reason": "rejected",
        "service": "survey",
        "topic": isolated.topics(Topic.SURVEY_RESPONSE),
    }
    assert metrics["gecc_dead_letters_total" + json.dumps(rejected, sort_keys=True)] == 2


async def test_the_tallier_is_a_process_of_its_own_started_again_when_it_dies(
    survey: Survey,
) -> None:
    isolated = survey.isolated
    responses = isolated.topics(Topic.SURVEY_RESPONSE)

    async def health() -> dict[str, str]:
        return dict((await survey.client.get("/health")).json())

    assert (await eventually(health, lambda h: h.get("tallier") == "ok"))["status"] == "ok"
    first = tallier_process(os.getpid())
    # Its consumers' lag (measured every 5 s) is in the survey's metrics.
    await eventually(
        survey.metrics,
        lambda m: any(k.startswith("gecc_consumer_lag") and responses in k for k in m),
        within=20,
    )

    first.kill()
    await eventually(survey.metrics, lambda m: m["gecc_survey_tallier_restarts_total{}"] == 1)
    await eventually(health, lambda h: h.get("tallier") == "ok")
    assert tallier_process(os.getpid()).pid != first.pid
    response = survey_response("GECC-0001")
    await send(
        isolated.kafka_bootstrap,
        responses,
        [(b"GECC-0001", response.model_dump_json().encode())],
    )
    expected = expected_tallies([response])
    assert (
        await eventually(
            lambda: stored_tallies(isolated.service_url("survey")), lambda t: t == expected
        )
        == expected
    )
