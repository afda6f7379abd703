"""The survey service served over HTTP in this test's process (its real database and the
real broker), with the registry's and the calendar's events it learns its directory from."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import httpx
import uvicorn
from fastapi import FastAPI

from services.survey.app import create_app
from services.survey.domain.directory import bangkok_day
from services.survey.settings import SurveySettings
from shared.events import CenterRegistered, Envelope, RoundScheduled, new_event
from shared.topics import Topic, TopicNames
from tests.support.isolation import Isolated
from tests.support.kafka import send
from tests.support.polling import eventually
from tests.support.services import free_port

CENTER = CenterRegistered(
    center_id="GECC-0001",
    name_th="ศูนย์ราชการสะดวก สำนักงานเขตพระนคร",
    name_en="Phra Nakhon District Office",
    office_path="PMO/BMA/DISTRICT",
)


def rounds_around(day: date) -> list[RoundScheduled]:
    """A half-year round and a fiscal-year round whose periods contain ``day``."""
    opens = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=30)
    return [
        RoundScheduled(
            round_id=round_id,
            kind=kind,
            fiscal_year=2570,
            period_start=day - timedelta(days=before),
            period_end=day + timedelta(days=after),
            opens_at=opens,
            due_at=opens + timedelta(days=60),
            closes_at=opens + timedelta(days=90),
        )
        for round_id, kind, before, after in (
            ("FY2570-H1", "H1", 60, 100),
            ("FY2570-FY", "FY", 60, 280),
        )
    ]


@dataclass
class Served:
    url: str
    app: FastAPI
    isolated: Isolated

    def client(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10, **options)


class Namespace(Protocol):
    """A broker and a topic namespace of one's own (a test's ``Isolated``, a benchmark's)."""

    @property
    def kafka_bootstrap(self) -> str: ...

    @property
    def topics(self) -> TopicNames: ...


async def announce(
    isolated: Namespace,
    centers: Sequence[CenterRegistered] = (CENTER,),
    rounds: Sequence[RoundScheduled] | None = None,
) -> None:
    """The registry's centers and the calendar's rounds (by default those around today), as
    intake publishes them."""
    today = bangkok_day(datetime.now(UTC))
    topics = isolated.topics
    await send(
        isolated.kafka_bootstrap,
        topics(Topic.CENTER_REGISTERED),
        [(c.center_id.encode(), _json(new_event(c, "intake"))) for c in centers],
    )
    await send(
        isolated.kafka_bootstrap,
        topics(Topic.ROUND_SCHEDULED),
        [
            (r.round_id.encode(), _json(new_event(r, "intake")))
            for r in (rounds_around(today) if rounds is None else rounds)
        ],
    )


def _json(event: Envelope[Any]) -> bytes:
    return event.model_dump_json().encode()


def settings_for(isolated: Isolated, url: str, port: int, **overrides: Any) -> SurveySettings:
    values: dict[str, Any] = {
        "database_url": isolated.service_url("survey"),
        "kafka_bootstrap": isolated.kafka_bootstrap,
        "topic_namespace": isolated.namespace,
        "public_url": url,
        "http_port": port,
        "directory_refresh_seconds": 0.2,
        "outbox_relay": "loop",
        **overrides,
    }
    return SurveySettings(**values)


def _ready(desk: Any) -> bool:
    known = CENTER.center_id in desk.directory.centers and bool(desk.directory.rounds)
    return known and desk.producer.connected


@asynccontextmanager
async def served_survey(
    isolated: Isolated, ready: bool = True, **overrides: Any
) -> AsyncIterator[Served]:
    """The survey service on a free port; ``ready``: once it knows the center (and, unless
    told otherwise, is producing to Kafka)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings_for(isolated, url, port, **overrides))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="none")
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0.05, server.started), bool, within=20)
    served = Served(url, app, isolated)
    try:
        if ready:
            desk = app.state.desk
            await eventually(lambda: asyncio.sleep(0.05, _ready(desk)), bool, within=30)
        yield served
    finally:
        server.should_exit = True
        await running
