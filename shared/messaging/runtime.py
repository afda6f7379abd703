"""What every service process runs beside its own logic: the database pool, the Kafka broker
with its subscribers, the outbox relay, and background work, from start to stop.

Serving it over HTTP (``/health``, ``/metrics``) and running the process are
``shared/service``'s."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from shared.database import create_pool
from shared.events import Envelope
from shared.messaging.consumer import DataT, EventConsumer
from shared.messaging.metrics import MessagingMetrics
from shared.messaging.outbox import OutboxRelay
from shared.messaging.relay_process import RelayProcess, RelaySettings
from shared.service.child_metrics import ChildMetrics, Exposition
from shared.service.child_process import ChildProcess
from shared.settings import ServiceSettings
from shared.topics import Topic

if TYPE_CHECKING:
    from shared.messaging.consumer import Handle, HandleMany

log = logging.getLogger(__name__)
# A service's subscribers share its consumer group and join one after another, each join a
# rebalance the members already in learn of by their next heartbeat: at Kafka's 3 s a service
# of five subscribers took 13 s to join (after every start and restart), at 0.5 s about 2 s.
# The session timeout, which decides when a silent member is dropped, stays at its 10 s.
HEARTBEAT_INTERVAL_MS = 500
Background = Callable[["ServiceRuntime"], Coroutine[Any, Any, None]]


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, messaging: bool = True) -> None:
        """``messaging=False``: a service with a database and no Kafka (no broker, no
        subscribers, no outbox relay), like the portal."""
        self.settings = settings
        self.messaging = messaging
        self.name = settings.service_name
        self.clock = settings.clock()
        self.registry = CollectorRegistry()
        self.metrics = MessagingMetrics(self.registry, self.name)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap,
            client_id=f"gecc-{self.name}",
            middlewares=[
                KafkaPrometheusMiddleware(
                    registry=self.registry, app_name=self.name, metrics_prefix="gecc"
                )
            ],
            enable_idempotence=True,
            acks="all",
        )
        self._pool: asyncpg.Pool | None = None
        self._consumer: EventConsumer | None = None
        self._subscribers: list[Any] = []
        self._relay_in_loop: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._startup: list[Callable[[ServiceRuntime], Awaitable[None]]] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._background: list[
            tuple[str, Callable[[ServiceRuntime], Coroutine[Any, Any, None]]]
        ] = []
        self.kafka_connected = False
        self._child_metrics: list[ChildMetrics] = []
        # What /metrics shows: this process's metrics and its children's.
        self.exposition = Exposition(self.registry, self._child_metrics)
        # More of /health: name -> its state now ("ok" or what is wrong), for information.
        self.checks: dict[str, Callable[[], str]] = {}

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name}: database pool used before start()")
        return self._pool

    def subscribe(
        self,
        topic: Topic,
        event_model: type[Envelope[DataT]],
        handle: "Handle[DataT]",
    ) -> None:
        """Consume ``topic`` in this service's group; ``handle(conn, event)`` runs once an event."""

        async def each(conn: asyncpg.Connection, events: Sequence[Envelope[DataT]]) -> None:
            for event in events:
                await handle(conn, event)

        self._subscribe(topic, event_model, handle, each)

    def subscribe_batch(
        self, topic: Topic, event_model: type[Envelope[DataT]], handle_many: "HandleMany[DataT]"
    ) -> None:
        """``subscribe`` with ``handle_many(conn, events)`` run once for a batch's new events
        (see ``EventConsumer.consume``)."""
        self._subscribe(topic, event_model, handle_many, handle_many)

    def _subscribe(
        self,
        topic: Topic,
        event_model: type[Envelope[DataT]],
        use_case: Callable[..., Awaitable[None]],
        handle_many: "HandleMany[DataT]",
    ) -> None:
        """``use_case`` names and documents the subscriber; ``handle_many`` runs it."""

        async def consume(message: KafkaMessage) -> None:
            assert self._consumer is not None
            records = message.raw_message
            batch = records if isinstance(records, tuple) else (records,)
            await self._consumer.consume(batch, event_model, handle_many)

        consume.__name__ = use_case.__name__
        consume.__doc__ = use_case.__doc__
        subscriber = self.broker.subscriber(
            self.settings.topics(topic),
            group_id=self.settings.consumer_group,
            auto_offset_reset="earliest",
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=self.settings.consumer_batch_size,
            batch_timeout_ms=50,
            title=f"{self.name}:{topic.value}",
            description=use_case.__doc__,
        )
        subscriber(consume)
        self._subscribers.append(subscriber)

    def publishes(self, topic: Topic, event_model: type[Envelope[Any]], description: str) -> None:
        """Declare an event published through the outbox (for the AsyncAPI document)."""
        self.broker.publisher(
            self.settings.topics(topic),
            title=f"{self.name}:{topic.value}",
            description=description,
            schema=event_model,
        )

    def on_start(self, step: "Callable[[ServiceRuntime], Awaitable[None]]") -> None:
        """Run ``step`` once the database pool exists, before serving."""
        self._startup.append(step)

    def on_stop(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` when stopping, after background work ended, before the pool closes
        (to close a client the service opened, say)."""
        self._shutdown.append(step)

    def in_background(self, name: str, work: "Background") -> None:
        """Run ``work`` as a task from start to stop (it runs until cancelled)."""
        self._background.append((name, work))

    def run_child(self, child: ChildProcess, metrics: ChildMetrics | None = None) -> None:
        """Run ``child`` from start to stop (started again if it dies); ``metrics``, which its
        reports fill, are shown in this service's ``/metrics``."""
        self.in_background(child.name, lambda _: child.supervise())
        if metrics is not None:
            self._child_metrics.append(metrics)

    async def start(self, relay: bool = True) -> None:
        s = self.settings
        self._pool = await create_pool(s.database_url, s.db_pool_min, s.db_pool_max)
        for step in self._startup:
            await step(self)
        for name, work in self._background:
            self._tasks.append(asyncio.create_task(self._supervise(name, work), name=name))
        if self.messaging:
            self._start_messaging(relay)
        # What exists now (modules, the app, settings, caches) lives until the process ends:
        # kept out of the collector's full passes, which otherwise walk it all again and
        # showed as the tail of the request latency.
        gc.freeze()

    def _start_messaging(self, relay: bool) -> None:
        s = self.settings
        assert self._pool is not None
        self._consumer = EventConsumer(
            service=self.name,
            pool=self._pool,
            dead_letter_topic=s.topics.dead_letter(self.name),
            publisher=self.broker,
            metrics=self.metrics,
        )
        self._tasks.append(asyncio.create_task(self._connect_broker(), name="kafka-connect"))
        self._tasks.append(asyncio.create_task(self._measure_lag(), name="consumer-lag"))
        relay_settings = RelaySettings(
            s.database_url,
            self.name,
            s.kafka_bootstrap,
            s.topic_namespace,
            s.outbox_busy_poll_ms / 1000,
        )
        if relay and s.outbox_relay == "process":
            in_child = RelayProcess(relay_settings, self.metrics)
            self._tasks.append(asyncio.create_task(in_child.supervise(), name="outbox-relay"))
        elif relay:
            in_loop = relay_settings.relay(self._pool, self.metrics)
            self._tasks.append(asyncio.create_task(in_loop.run(), name="outbox-relay"))
            self._relay_in_loop = in_loop

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for step in self._shutdown:
            with contextlib.suppress(Exception):
                await step()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        if self._relay_in_loop is not None:
            await self._relay_in_loop.close()
        if self._pool is not None:
            await self._pool.close()

    async def _measure_lag(self, interval: float = 5.0) -> None:
        """``gecc_consumer_lag`` for every partition assigned to this process's consumers."""
        gauge = self.metrics.consumer_lag
        while True:
            await asyncio.sleep(interval)
            lags: dict[tuple[str, str, str], int] = {}
            for subscriber in self._subscribers:
                consumer = getattr(subscriber, "consumer", None)
                if consumer is None:
                    continue
                with contextlib.suppress(Exception):  # a rebalance may be under way
                    for tp in consumer.assignment():
                        end = consumer.highwater(tp)
                        if end is not None:
                            position = await consumer.position(tp)
                            lags[(self.name, tp.topic, str(tp.partition))] = max(0, end - position)
            gauge.clear()  # partitions moved to another process are not this one's lag
            for labels, lag in lags.items():
                gauge.labels(*labels).set(lag)

    async def _supervise(self, name: str, work: Background) -> None:
        """Run ``work`` until stopped; a crash is logged and the work started again."""
        while True:
            try:
                await work(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: %s failed; starting it again in 1 s", self.name, name)
                await asyncio.sleep(1.0)

    async def _connect_broker(self) -> None:
        """Start consuming once Kafka answers; the HTTP side never waits for Kafka."""
        delay = 0.5
        while True:
            try:
                await self.broker.start()
                self.kafka_connected = True
                log.info("%s: connected to Kafka at %s", self.name, self.settings.kafka_bootstrap)
                return
            except Exception as error:
                log.warning(
                    "%s: Kafka not reachable (%s); retrying in %.1fs", self.name, error, delay
                )
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
