"""The survey benchmark's baseline: a bare ASGI app that answers ``POST /s/{center}`` by
producing a record like the survey's (same size and shape, a new event id each) to the same
topic with aiokafka (idempotent, acks=all), answering 303 once Kafka acknowledged it.
No form parsing, no token, no cookies, no pages: what any service doing this work pays.

``python -m bench.survey_baseline PORT BOOTSTRAP TOPIC``"""

import json
import sys
import uuid
from datetime import UTC, datetime

import uvicorn
from aiokafka import AIOKafkaProducer

from bench.servers import Receive, Scope, Send, lifespan, read_body, redirect, respond

RATINGS = {f"S{n}": n % 5 + 1 for n in range(1, 9)}


class Baseline:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.producer: AIOKafkaProducer | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, self.start, self.stop)
            return
        await read_body(receive)
        if scope["method"] != "POST":  # the bench asking whether it is up: nothing produced
            await respond(send, 200, b"ok", b"text/plain")
            return
        center = scope["path"].rpartition("/")[2]
        moment = datetime.now(UTC).isoformat()
        record = json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "event_type": "survey.response",
                "occurred_at": moment,
                "producer": "baseline",
                "schema_version": 1,
                "data": {
                    "center_id": center,
                    "round_ids": ["FY2570-H1", "FY2570-FY"],
                    "standard": "gecc-maintenance-2570",
                    "ratings": RATINGS,
                    "answered_at": moment,
                },
            },
            separators=(",", ":"),
        ).encode()
        assert self.producer is not None
        await self.producer.send_and_wait(self.topic, record, key=center.encode())
        await redirect(send, f"/s/{center}/thanks")

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all", linger_ms=2
        )
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()


def main(argv: list[str]) -> int:
    port, bootstrap, topic = int(argv[0]), argv[1], argv[2]
    uvicorn.run(
        Baseline(bootstrap, topic),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
