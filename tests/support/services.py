"""The services as separate processes, as the launcher runs them, for end-to-end tests."""

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from gecc.stack import services as stack_services
from shared.topics import SERVICES
from tests.support.infrastructure import REPO
from tests.support.isolation import Isolated

# Below Linux's ephemeral range (32768-60999): a port the kernel hands out to a probe is
# also one it may give any outgoing connection's local end before the server binds it.
TEST_PORTS = range(20000, 32000)


# Ports this process handed out: a stack takes a dozen before it binds any of them, so a
# port free now may already be promised (two stacks' SMTP sinks on one port, say).
_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now and not handed out before by this process, outside the
    range outgoing connections use."""
    for port in random.sample(TEST_PORTS, 50):
        if port in _given:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port in {TEST_PORTS}")


class ServiceProcess:
    """One service as its own process (``python -m services.NAME``), with this test's
    database and topics plus ``env``; it can be killed and started again."""

    def __init__(self, name: str, isolated: Isolated, log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, **isolated.service_env(name, self.port), **env}
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self) -> None:
        assert self._process is not None
        _wait_healthy(self.name, self.url, self._process, self.log)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as a crash."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """SIGTERM: the service shuts down as it would in a deployment."""
        if self._process is not None:
            self._process.terminate()

    def wait_stopped(self) -> None:
        if self._process is None:
            return
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@contextmanager
def running_services(
    isolated: Isolated,
    logs: Path,
    env: dict[str, str] | None = None,
    extra: dict[str, int] | None = None,
) -> Iterator[dict[str, ServiceProcess]]:
    """Start every service (and ``extra`` more processes of some, named ``NAME-2`` ...) with
    ``env`` added to their environment; stop them all afterwards."""
    names = [(name, name) for name in SERVICES]
    for name, count in (extra or {}).items():
        names += [(f"{name}-{n}", name) for n in range(2, count + 2)]
    processes = {
        label: ServiceProcess(service, isolated, logs / f"{label}.log", env or {})
        for label, service in names
    }
    link(processes)
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_healthy()
        yield processes
    finally:
        # All at once: each takes a second or two to leave its consumer groups.
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait_stopped()


def link(processes: dict[str, ServiceProcess]) -> None:
    """What the launcher tells the services of each other: the portal where intake and the
    survey service are and where it is itself, the notifier where its sign-in links lead."""
    portal, intake = processes.get("portal"), processes.get("intake")
    if portal is None:
        return
    portal.env["GECC_PORTAL_PUBLIC_URL"] = portal.url
    if intake is not None:
        portal.env["GECC_PORTAL_INTAKE_URL"] = intake.url
    survey = processes.get("survey")
    if survey is not None:
        portal.env["GECC_PORTAL_SURVEY_URL"] = survey.url
        portal.env["GECC_PORTAL_SURVEY_PUBLIC_URL"] = survey.url
    for process in processes.values():
        if process.name == "notifier":
            process.env["GECC_NOTIFIER_PORTAL_URL"] = portal.url


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
    late = await stack_services.consumers_joined(urls, within=30.0 * len(urls))
    assert late is None, f"{late} did not connect to Kafka in time"
