"""The service processes: ``python -m services.<name>``, ready once ``GET /health`` says 200."""

import asyncio
import time
from collections.abc import Mapping

import httpx

from gecc.stack import processes
from gecc.stack.config import REPO_ROOT, StackConfig
from gecc.stack.state import ProcessRecord

STOP_GRACE = 10.0


def command(config: StackConfig, name: str) -> list[str]:
    return [part.format(name=name) for part in config.service_command]


def start_service(config: StackConfig, name: str) -> ProcessRecord:
    """Start the service's process (not yet ready); its port must be free."""
    port = config.service_ports[name]
    processes.ensure_port_free(port, f"the {name} service", f"GECC_{name.upper()}_HTTP_PORT")
    return processes.spawn(
        command(config, name),
        config.log_file(name),
        config.service_address(name),
        cwd=REPO_ROOT,
        env=config.service_env(name),
    )


def is_healthy(config: StackConfig, name: str) -> bool:
    return processes.answers_ok(f"http://{config.service_address(name)}/health")


def wait_ready(config: StackConfig, name: str, record: ProcessRecord) -> None:
    """Wait until ``GET /health`` answers 200; fail early if the process died."""
    processes.wait_until_ready(
        record,
        f"the {name} service",
        lambda: is_healthy(config, name),
        "answer GET /health",
        config.log_file(name),
        config.start_timeout,
        interval=0.2,
    )


async def consumers_joined(urls: Mapping[str, str], within: float) -> str | None:
    """Wait until every service at ``urls`` (name -> base URL) says on ``/health`` that its
    Kafka consumers have joined (``"kafka": "ok"``; a service without Kafka, whose health has
    no ``kafka``, once it answers); the name of the first that did not within ``within``
    seconds, or None. A restarted service's subscribers join one after another, each join a
    rebalance of its group."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=processes.HEALTH_TIMEOUT, trust_env=False) as client:
        for name, url in urls.items():
            while True:
                try:
                    if (await client.get(f"{url}/health")).json().get("kafka", "ok") == "ok":
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    return name
                await asyncio.sleep(0.1)
    return None
