"""The tallier under faults, on real processes, while citizens' responses stream in: the
tallier's process exits between a batch's database commit and its offset commit (a
failpoint) and the survey is started again without the failpoint; the tallier's process is
killed with SIGKILL and the survey's starts it again; the Kafka broker is stopped and
started again. Afterwards the tallies, in the database and as the latest events on the
compacted tally topic, equal exactly the responses Kafka acknowledged.

A Kafka broker of this module's own (the launcher's, on free ports) so that restarting it
disturbs no one else's tests; the database is this test's own on the shared PostgreSQL.
"""

import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gecc.bootstrap import ensure_topics
from gecc.stack import kafka, processes
from gecc.stack.config import StackConfig
from gecc.stack.state import ProcessRecord
from shared.events import Envelope, SurveyResponse, SurveyTally
from shared.messaging.consumer import FAILPOINT_ENV, FAILPOINT_EXIT_CODE
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_to_end
from tests.support.services import ServiceProcess, free_port
from tests.support.survey import (
    AcknowledgedSender,
    Tallies,
    citizens,
    expected_tallies,
    stored_tallies,
    tallier_process,
)

T = TypeVar("T")
# Three runs of the tallier (each waits for the group to drop the one before) and a broker
# restart, with responses streaming in throughout.
pytestmark = pytest.mark.timeout(600)

CENTERS = 300
RATE = 250.0  # responses a second
IN_FLIGHT = 50
KILL_AFTER_TALLIED = 1000
BROKER_DOWN_AFTER = 1000  # acknowledged by the third run
AFTER_THE_FAULTS = 1000
BROKER_DOWN_SECONDS = 3.0
SETTLED_WITHIN = 180.0


class Broker:
    """The module's own broker, which a test may stop and start again."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.record: ProcessRecord | None = None

    @property
    def bootstrap(self) -> str:
        return self.config.kafka_bootstrap

    def start(self) -> None:
        """Start it and wait until it answers. Not ``kafka.wait_ready``: right after the start
        it once judged the new broker gone (its process not yet looking like the one
        launched) while it was starting, and a second broker was then refused the port."""
        self.record = kafka.start_broker(self.config)
        deadline = time.monotonic() + self.config.start_timeout
        while not asyncio.run(kafka.is_healthy(self.config)):
            if not psutil.pid_exists(self.record.pid) or time.monotonic() > deadline:
                log = self.config.log_file("kafka")
                raise AssertionError(f"Kafka did not start:\n{processes.log_tail(log, 40)}")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.record is not None:
            processes.stop(self.record, kafka.STOP_GRACE)
            self.record = None


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    # Not under pytest's tmp_path (see tests/support/stacks.py).
    home = Path(tempfile.mkdtemp(prefix="gecc-survey-faults-"))
    controller = free_port()
    port = next(p for p in iter(free_port, None) if p != controller)
    own = Broker(
        StackConfig(home=home, kafka_port=port, kafka_controller_port=controller, start_timeout=120)
    )
    try:
        own.start()
        yield own
    finally:
        own.stop()
        shutil.rmtree(home, ignore_errors=True)


async def test_tallies_equal_the_acknowledged_responses_after_a_sigkill_and_a_broker_restart(
    isolated: Isolated, broker: Broker, tmp_path: Path
) -> None:
    await ensure_topics(broker.bootstrap, isolated.namespace)
    survey = ServiceProcess(
        "survey",
        isolated,
        tmp_path / "survey.log",
        {"GECC_KAFKA_BOOTSTRAP": broker.bootstrap, FAILPOINT_ENV: "exit-after-commit"},
    )
    survey.start()
    try:
        survey.wait_healthy()
        await wait_for(
            lambda: health(survey),
            lambda h: h.get("tallier") == "ok",
            "the survey's tallier to consume",
            survey,
        )
        sender = AcknowledgedSender(broker.bootstrap)
        try:
            stream = Stream(sender, isolated.topics(Topic.SURVEY_RESPONSE))
            sending = asyncio.create_task(stream.run())
            second_run = await faults(stream, survey, broker)
            await sending
        finally:
            await sender.close()
        print(
            f"{stream.acknowledged} responses acknowledged in {stream.seconds:.1f} s,"
            f" {stream.retried} after more than one attempt"
        )

        assert stream.acknowledged == len(stream.sent)
        expected = expected_tallies(stream.sent)
        started = time.monotonic()
        try:
            await settle(isolated, expected)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{log_tail(survey)}") from None
        print(f"tallies settled {time.monotonic() - started:.1f} s after the last response")
        metrics = await service_metrics(survey)
        print(f"second run, before its SIGKILL: {second_run}; third run: {metrics}")
        assert second_run["duplicates"] >= 1, "the batch committed before the exit came again"
        assert metrics["tallied"] <= len(stream.sent)  # what the restarted tallier folded
        assert metrics["dead_letters"] == 0

        tallies = await read_to_end(broker.bootstrap, isolated.topics(Topic.SURVEY_TALLY))
        print(f"{len(tallies)} tally events for {len(expected)} tallies")
        latest: dict[tuple[str, str], SurveyTally] = {}
        for record in tallies:
            tally = Envelope[SurveyTally].model_validate_json(record.value).data
            key = (tally.center_id, tally.round_id)
            if key not in latest or tally.revision > latest[key].revision:
                latest[key] = tally
        published = {key: (t.responses, t.counts) for key, t in latest.items()}
        assert published == expected, "the latest tally events differ from the responses"
    finally:
        survey.stop()


class Stream:
    """Sends responses, each until acknowledged, ``IN_FLIGHT`` at a time, at most ``RATE`` a
    second, until told to finish."""

    def __init__(self, sender: AcknowledgedSender, topic: str) -> None:
        self.sender, self.topic = sender, topic
        self.sent: list[Envelope[SurveyResponse]] = []
        self.acknowledged = 0
        self.retried = 0
        self.seconds = 0.0
        self._finishing = asyncio.Event()

    def finish(self) -> None:
        self._finishing.set()

    async def run(self) -> None:
        started = time.monotonic()
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def send(event: Envelope[SurveyResponse]) -> None:
            try:
                attempts = await self.sender.send(self.topic, event)
            finally:
                slots.release()
            self.acknowledged += 1
            self.retried += attempts > 1

        sending = []
        for n, event in enumerate(citizens(CENTERS)):
            if self._finishing.is_set():
                break
            await slots.acquire()
            self.sent.append(event)
            sending.append(asyncio.create_task(send(event)))
            await asyncio.sleep(max(0.0, started + n / RATE - time.monotonic()))
        await asyncio.gather(*sending)
        self.seconds = time.monotonic() - started


async def faults(stream: Stream, survey: ServiceProcess, broker: Broker) -> dict[str, float]:
    """The tallier's process exits between its first batch's database commit and its offset
    commit (a failpoint; the survey starts it again, and it exits again after its next
    batch), and the survey is started again without the failpoint; the tallier's process is
    killed with SIGKILL once it tallied some, and the survey starts it again; then the broker
    stops for a few seconds in the middle of the stream and starts again. Returns the metrics
    of the tallier's second run, just before the SIGKILL."""
    await wait_for(
        lambda: service_metrics(survey),
        lambda m: m["restarts"] >= 1,
        "the failpoint to end the tallier's process after its first commit",
        survey,
    )
    ended = f"tallier process ended (exit code {FAILPOINT_EXIT_CODE})"
    assert ended in survey.log.read_text(errors="replace"), log_tail(survey)
    survey.stop()
    committed = await inbox_size(survey.env["GECC_SURVEY_DATABASE_URL"])
    print(f"tallier exited after committing {committed} at {stream.acknowledged} acknowledged")
    assert committed > 0
    del survey.env[FAILPOINT_ENV]
    survey.start()
    await asyncio.to_thread(survey.wait_healthy)
    second_run = await wait_for(
        lambda: service_metrics(survey),
        lambda m: m["tallied"] >= KILL_AFTER_TALLIED and m["duplicates"] >= 1,
        f"{KILL_AFTER_TALLIED} responses tallied and the first run's last batch recognised",
        survey,
    )
    assert survey.pid is not None
    tallier = tallier_process(survey.pid)
    tallier.kill()
    tallier.wait(10)
    print(f"tallier killed with SIGKILL at {stream.acknowledged} acknowledged")
    await wait_for(
        lambda: service_metrics(survey),
        lambda m: m["restarts"] == 1,
        "the survey to start its tallier again",
        survey,
    )
    await wait_for(
        lambda: health(survey), lambda h: h.get("tallier") == "ok", "the tallier back", survey
    )
    assert tallier_process(survey.pid).pid != tallier.pid
    third_run = stream.acknowledged
    await wait_until(lambda: stream.acknowledged >= third_run + BROKER_DOWN_AFTER, within=120)
    await asyncio.to_thread(broker.stop)
    print(f"broker stopped at {stream.acknowledged} acknowledged")
    await asyncio.sleep(BROKER_DOWN_SECONDS)
    started = time.monotonic()
    await asyncio.to_thread(broker.start)
    back = stream.acknowledged
    print(f"broker back in {time.monotonic() - started:.1f} s, {back} acknowledged")
    await wait_until(lambda: stream.acknowledged >= back + AFTER_THE_FAULTS, within=120)
    stream.finish()
    return second_run


async def settle(isolated: Isolated, expected: Tallies) -> None:
    """The tallies in the database equal ``expected``, and the outbox has been relayed."""
    deadline = time.monotonic() + SETTLED_WITHIN
    while True:
        url = isolated.service_url("survey")
        stored, backlog = await stored_tallies(url), await outbox_size(url)
        if stored == expected and backlog == 0:
            return
        if time.monotonic() > deadline:
            wrong = [k for k in expected.keys() | stored.keys() if stored.get(k) != expected.get(k)]
            first = wrong[0] if wrong else None
            raise AssertionError(
                f"after {SETTLED_WITHIN:.0f} s {len(wrong)} of {len(expected)} tallies differ"
                f" (first {first}: stored {stored.get(first) if first else None},"
                f" expected {expected.get(first) if first else None}); outbox {backlog}"
            )
        await asyncio.sleep(0.5)


async def outbox_size(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


async def inbox_size(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM inbox"))
    finally:
        await conn.close()


async def health(survey: ServiceProcess) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        return dict((await client.get(f"{survey.url}/health")).json())


async def service_metrics(survey: ServiceProcess) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        text = (await client.get(f"{survey.url}/metrics")).text
    found = {"tallied": 0.0, "duplicates": 0.0, "dead_letters": 0.0, "restarts": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gecc_survey_tallied_total":
                found["tallied"] += sample.value
            elif sample.name == "gecc_events_consumed_total":
                if sample.labels.get("outcome") == "duplicate":
                    found["duplicates"] += sample.value
            elif sample.name == "gecc_dead_letters_total":
                found["dead_letters"] += sample.value
            elif sample.name == "gecc_survey_tallier_restarts_total":
                found["restarts"] += sample.value
    return found


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    what: str,
    survey: ServiceProcess,
    within: float = 60.0,
) -> T:
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = await probe()
            if done(last):
                return last
        except (httpx.HTTPError, OSError) as error:
            last = error
        await asyncio.sleep(0.2)
    raise AssertionError(f"waited {within:.0f} s for {what}; last: {last!r}\n{log_tail(survey)}")


async def wait_until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {within:.0f} s"
        await asyncio.sleep(0.1)


def log_tail(survey: ServiceProcess) -> str:
    return f"--- {survey.log}:\n{processes.log_tail(survey.log, 40)}"
