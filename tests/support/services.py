"""The four services as separate processes, as the launcher runs them, for end-to-end tests."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from shared.topics import SERVICES
from tests.support.infrastructure import REPO
from tests.support.isolation import Isolated


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_services(isolated: Isolated, logs: Path) -> Iterator[dict[str, str]]:
    """Start every service; yield their base URLs; stop them all afterwards."""
    ports = {name: free_port() for name in SERVICES}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs.mkdir(parents=True, exist_ok=True)
    try:
        for name in SERVICES:
            with (logs / f"{name}.log").open("wb") as log:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    cwd=REPO,
                    env={**os.environ, **isolated.service_env(name, ports[name])},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, url in urls.items():
            _wait_healthy(name, url, processes[name], logs / f"{name}.log")
        yield urls
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(name: str, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{log.read_text()}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{name} was not healthy within 60 s:\n{log.read_text()[-3000:]}")


async def wait_for_consumers(urls: dict[str, str]) -> None:
    """Every service reports its Kafka consumers connected."""
    async with httpx.AsyncClient() as client:
        for name, url in urls.items():
            for _ in range(300):
                if (await client.get(f"{url}/health")).json().get("kafka") == "ok":
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{name} did not connect to Kafka within 30 s")
