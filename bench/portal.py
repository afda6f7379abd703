"""Reports sent through the portal, beside the same reports sent straight to intake, in one
run on the running local stack.

``python -m bench.portal [--sessions 32] [--seconds 15] [--rounds 2]`` brings the stack up on
the real clock from an empty database (as ``bench.round`` does), registers the registry,
signs ``--sessions`` centers in to the portal as people do (the portal's sign-in page, the
link from the mail sink, its button), then measures in turn, ``--rounds`` times each:

- **portal**: each session, on its own keep-alive connection, loads the report form, posts
  it for review (a changed report each time: a new version), loads the review page and
  sends it; one submission = those four requests;
- **floor**: the same four requests, as the same centers, answered by
  ``bench/portal_floor.py`` (a bare ASGI app: what any web tier costs for this flow);
- **direct**: as many other centers post the same reports to ``POST /v1/submissions`` with
  their API tokens.

It prints submissions per second of each, their ratio (aim: the portal at 0.5 of direct or
more), the form page's p50/p95 (aim: p95 under 100 ms) and each step's p95, and the
machine. The stack is left running (``gecc stack down`` stops it). People are not this
fast: the service's per-address sign-in budget and intake's per-token budget are raised for
the run (``GECC_PORTAL_SIGN_IN_BURST``, ``GECC_INTAKE_RATE_LIMIT_*``).
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from uuid import uuid4

import httpx

from bench.fixtures import postgres_facts
from bench.intake import wait_quiet
from bench.machine import CpuProbe, describe, listener, with_children
from bench.round import scored, stack_processes
from gecc.demo import DEMO_ROUND, STANDARD, fresh_state, prepare
from gecc.demo_portal import sign_in_link
from gecc.registry_generator import generate_registry
from gecc.stack import stack
from gecc.stack.config import StackConfig
from gecc.stack_client import StackClient
from shared.standards import Standard, default_standards_dir, load_catalog

REPO = Path(__file__).resolve().parent.parent
HEADERS_END = b"\r\n\r\n"
KEY = re.compile(rb'name="key" value="([^"]+)"')
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
QUIET_SECONDS = 180.0
RAISED_BUDGETS = {
    "GECC_PORTAL_SIGN_IN_BURST": "100000",
    "GECC_PORTAL_SIGN_IN_PER_MINUTE": "100000",
    "GECC_INTAKE_RATE_LIMIT_BURST": "100000",
    "GECC_INTAKE_RATE_LIMIT_PER_MINUTE": "100000",
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: bytes
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time (bodies by length)."""

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> Answer:
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
        reader, writer = self._streams
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(HEADERS_END)
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        body = await reader.readexactly(int(length.group(1))) if length else b""
        return Answer(int(head[9:12]), head, body)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


@dataclass
class Session:
    center_id: str
    cookie: str
    csrf: str = ""


@dataclass
class Phase:
    name: str
    seconds: float
    submissions: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    steps: dict[str, list[float]] = field(default_factory=dict)
    cores: dict[str, float] = field(default_factory=dict)
    # After the phase, until its reports were all scored and every e-mail sent (counted
    # from the accepted reports and intake's scored count, which include late ones).
    drain_seconds: float = 0.0

    def note(self, step: str, took: float) -> None:
        self.steps.setdefault(step, []).append(took)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def rate(self) -> float:
        return self.submissions / self.seconds

    @property
    def end_to_end_rate(self) -> float:
        """Reports per second until the stack had done all its work on them."""
        return self.submissions / (self.seconds + self.drain_seconds)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def form_body(standard: Standard, csrf: str, respondents: int) -> bytes:
    fields = {"csrf_token": csrf, "action": "review", "respondents": str(respondents)}
    for question in standard.questions:
        for rating, count in enumerate((1, 3, 20, 150, 238), start=1):
            fields[f"count-{question.code}-{rating}"] = str(count)
    for item in standard.items:
        fields[f"met-{item.code}"] = "yes"
        fields[f"evidence-{item.code}"] = "ภาพถ่ายจุดบริการและบันทึกการประชุม"
    return urlencode(fields).encode()


def report_json(standard: Standard, respondents: int) -> bytes:
    report = {
        "round_id": DEMO_ROUND,
        "satisfaction": {
            "respondents": respondents,
            "questions": [
                {"code": q.code, "counts": [1, 3, 20, 150, 238]} for q in standard.questions
            ],
        },
        "checklist": {
            "standard": standard.id,
            "items": [
                {"code": i.code, "met": True, "evidence": "ภาพถ่ายจุดบริการและบันทึกการประชุม"}
                for i in standard.items
            ],
        },
    }
    return json.dumps(report, ensure_ascii=False).encode()


def get(host: str, path: str, cookie: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n".encode()


def post(host: str, path: str, cookie: str, body: bytes, kind: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
        f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def portal_worker(
    address: str, standard: Standard, session: Session, phase: Phase, end: float
) -> None:
    """Through the portal, or through the floor (``bench/portal_floor.py``) at ``address``."""
    host, port = address.split(":")
    connection = Connection(host, int(port))
    report = f"/rounds/{DEMO_ROUND}/report"
    form = "application/x-www-form-urlencoded"
    n = 0
    try:
        while time.perf_counter() < end:
            n += 1
            started = time.perf_counter()
            page = await connection.send(get(host, report, session.cookie))
            phase.note("form page", time.perf_counter() - started)
            if page.status != 200:
                phase.error(f"form {page.status}")
                continue
            if not session.csrf:
                found = CSRF.search(page.body)
                assert found is not None
                session.csrf = found.group(1).decode()
            step = time.perf_counter()
            body = form_body(standard, session.csrf, 412 + n)
            posted = await connection.send(post(host, report, session.cookie, body, form))
            phase.note("post for review", time.perf_counter() - step)
            if posted.status != 303:
                phase.error(f"review post {posted.status}")
                continue
            step = time.perf_counter()
            review = await connection.send(
                get(host, f"/rounds/{DEMO_ROUND}/review", session.cookie)
            )
            phase.note("review page", time.perf_counter() - step)
            key = KEY.search(review.body)
            if review.status != 200 or key is None:
                phase.error(f"review {review.status}")
                continue
            step = time.perf_counter()
            send = urlencode({"csrf_token": session.csrf, "key": key.group(1).decode()}).encode()
            sent = await connection.send(
                post(host, f"/rounds/{DEMO_ROUND}/submit", session.cookie, send, form)
            )
            phase.note("submit", time.perf_counter() - step)
            if sent.status != 303 or b"/versions/" not in sent.headers:
                phase.error(f"submit {sent.status}")
                continue
            phase.note("whole submission", time.perf_counter() - started)
            if time.perf_counter() < end:
                phase.submissions += 1
    finally:
        connection.close()


async def direct_worker(
    config: StackConfig, standard: Standard, token: str, phase: Phase, end: float
) -> None:
    host, port = config.service_address("intake").split(":")
    connection = Connection(host, int(port))
    n = 0
    try:
        while time.perf_counter() < end:
            n += 1
            body = report_json(standard, 412 + n)
            head = (
                f"POST /v1/submissions HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid4()}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            started = time.perf_counter()
            answer = await connection.send(head.encode() + body)
            if answer.status != 201:
                phase.error(f"submit {answer.status}")
                continue
            phase.note("whole submission", time.perf_counter() - started)
            if time.perf_counter() < end:
                phase.submissions += 1
    finally:
        connection.close()


async def sign_in_sessions(config: StackConfig, emails: dict[str, str]) -> list[Session]:
    """Each center signed in as a person is: the sign-in page, the mail, the button."""
    sessions = []
    portal = f"http://{config.service_address('portal')}"
    for center_id, email in emails.items():
        link = (await sign_in_link(config, email, center_id)).link
        async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
            page = await client.get(link)
            token = CSRF.search(page.content)
            assert token is not None, page.text[:300]
            opened = await client.post(link, data={"csrf_token": token.group(1).decode()})
            assert opened.status_code == 303, opened.text[:300]
            cookie = opened.cookies.get("gecc_session")
            assert cookie, f"no session for {center_id}"
        sessions.append(Session(center_id, f"gecc_session={cookie}"))
    assert all(s.cookie for s in sessions)
    print(f"sessions  {len(sessions)} centers signed in to {portal}", flush=True)
    return sessions


async def run(config: StackConfig, sessions: int, seconds: float, rounds: int) -> list[Phase]:
    stack.up(config, services=False)
    stack.stop_services(config)
    await fresh_state(config)
    for name in ("GECC_CLOCK_SPEED", "GECC_CLOCK_EPOCH", "GECC_CLOCK_START"):
        os.environ.pop(name, None)
    os.environ.update(RAISED_BUDGETS)
    stack.start_services(config)
    centers = generate_registry(2 * sessions, 2570)
    tokens, operator = await prepare(config, centers, datetime.now(UTC))
    signed = await sign_in_sessions(config, {c.id: c.contact_emails[0] for c in centers[:sessions]})
    direct = [tokens[c.id] for c in centers[sessions:]]
    standard = load_catalog(default_standards_dir()).get(STANDARD)
    assert standard is not None
    # The floor sends as the portal's centers, with their API tokens.
    floors = [Session(s.center_id, f"floor={tokens[s.center_id]}") for s in signed]
    phases = []
    form, review = await captured_pages(config, standard, signed[0])
    with floor_served(config, standard, form, review) as floor:
        async with StackClient(config, operator) as stack_client:
            warm_up = await one_phase("warm-up", 3.0, config, standard, signed, direct, floor)
            accepted = warm_up.submissions
            await drained(config, stack_client, accepted, warm_up)
            for _ in range(rounds):
                for name in ("portal", "floor", "direct"):
                    await asyncio.to_thread(wait_quiet, QUIET_SECONDS)
                    phase = await one_phase(
                        name,
                        seconds,
                        config,
                        standard,
                        floors if name == "floor" else signed,
                        direct,
                        floor,
                    )
                    accepted += phase.submissions
                    await drained(config, stack_client, accepted, phase)
                    phases.append(phase)
    return phases


@contextmanager
def floor_served(
    config: StackConfig, standard: Standard, form: bytes, review: bytes
) -> Iterator[str]:
    """``bench/portal_floor.py`` served with the portal's own form and review pages; its
    address."""
    pages = Path(tempfile.mkdtemp(prefix="gecc-floor-"))
    (pages / "form.html").write_bytes(form)
    (pages / "review.html").write_bytes(review)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "FLOOR_FORM": str(pages / "form.html"),
        "FLOOR_REVIEW": str(pages / "review.html"),
        "FLOOR_INTAKE_URL": f"http://{config.service_address('intake')}",
        "FLOOR_STANDARD": standard.id,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.portal_floor:app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the floor app did not start")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(pages, ignore_errors=True)


async def captured_pages(
    config: StackConfig, standard: Standard, session: Session
) -> tuple[bytes, bytes]:
    """The portal's form and review pages as one session gets them."""
    host, port = config.service_address("portal").split(":")
    connection = Connection(host, int(port))
    report = f"/rounds/{DEMO_ROUND}/report"
    try:
        form = await connection.send(get(host, report, session.cookie))
        csrf = CSRF.search(form.body)
        assert form.status == 200 and csrf is not None
        body = form_body(standard, csrf.group(1).decode(), 412)
        kind = "application/x-www-form-urlencoded"
        await connection.send(post(host, report, session.cookie, body, kind))
        review = await connection.send(get(host, f"/rounds/{DEMO_ROUND}/review", session.cookie))
        assert review.status == 200
        return form.body, review.body
    finally:
        connection.close()


async def drained(
    config: StackConfig, stack_client: StackClient, accepted: int, phase: Phase
) -> None:
    """Until every report accepted so far is scored and no e-mail waits to be sent: a
    direct phase leaves the rest of the stack behind, the portal's pace lets it keep up."""
    started = time.perf_counter()
    while time.perf_counter() - started < QUIET_SECONDS:
        notifier = await stack_client.metrics("notifier")
        pending = notifier.total("gecc_notifications_in_ledger", status="pending")
        if await scored(config, stack_client) >= accepted and pending == 0:
            break
        await asyncio.sleep(0.1)
    phase.drain_seconds = time.perf_counter() - started


async def one_phase(
    name: str,
    seconds: float,
    config: StackConfig,
    standard: Standard,
    sessions: list[Session],
    tokens: list[str],
    floor: str,
) -> Phase:
    phase = Phase(name, seconds)
    floor_port = int(floor.split(":")[1])
    floor_processes = with_children(listener(floor_port))
    probe = CpuProbe({**stack_processes(config), "floor": lambda: floor_processes})
    before = probe.sample()
    end = time.perf_counter() + seconds
    address = floor if name == "floor" else config.service_address("portal")
    if name == "direct":
        workers = [direct_worker(config, standard, t, phase, end) for t in tokens]
    else:
        workers = [portal_worker(address, standard, s, phase, end) for s in sessions]
    await asyncio.gather(*workers)
    phase.cores = CpuProbe.cores(before, probe.sample())
    return phase


def render(phases: list[Phase], sessions: int, machine: dict[str, str]) -> str:
    lines = [
        f"{sessions} concurrent sessions (portal) or tokens (direct), one connection each",
        "",
        f"{'phase':8} {'submissions/s':>14} {'end to end/s':>13} {'errors':>7}  step p50 / p95 ms",
    ]
    for phase in phases:
        steps = "; ".join(
            f"{step} {1000 * statistics.median(v):.0f} / {1000 * percentile(v, 0.95):.0f}"
            for step, v in phase.steps.items()
        )
        errors = sum(phase.errors.values())
        lines.append(
            f"{phase.name:8} {phase.rate:14.1f} {phase.end_to_end_rate:13.1f} {errors:7}  {steps}"
        )
        cores = ", ".join(f"{name} {used:.2f}" for name, used in phase.cores.items())
        lines.append(f"{'':8} cores used: {cores}")
    portal = [p for p in phases if p.name == "portal"]
    direct = [p for p in phases if p.name == "direct"]
    portal_rate = statistics.mean(p.rate for p in portal)
    direct_rate = statistics.mean(p.rate for p in direct)
    floor_rate = statistics.mean(p.rate for p in phases if p.name == "floor")
    portal_whole = statistics.mean(p.end_to_end_rate for p in portal)
    direct_whole = statistics.mean(p.end_to_end_rate for p in direct)
    form = [t for p in portal for t in p.steps.get("form page", [])]
    lines += [
        "",
        f"portal / direct (means): {portal_rate:.1f} / {direct_rate:.1f} ="
        f" {portal_rate / direct_rate:.2f} (aim: 0.5 or more)",
        f"floor / direct (the same four steps in a bare app): {floor_rate:.1f} /"
        f" {direct_rate:.1f} = {floor_rate / direct_rate:.2f}; portal / floor ="
        f" {portal_rate / floor_rate:.2f}",
        f"end to end (until scored and mailed): {portal_whole:.1f} / {direct_whole:.1f} ="
        f" {portal_whole / direct_whole:.2f}",
        f"form page: p50 {1000 * statistics.median(form):.0f} ms,"
        f" p95 {1000 * percentile(form, 0.95):.0f} ms (aim: p95 under 100 ms)",
        "",
        *(f"{key:<11} {value}" for key, value in machine.items()),
    ]
    refused = {e: n for p in phases for e, n in p.errors.items()}
    if refused:
        lines.append(f"errors: {refused}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.portal", description=__doc__)
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured a phase")
    parser.add_argument("--rounds", type=int, default=2, help="portal and direct phases each")
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    phases = asyncio.run(run(config, args.sessions, args.seconds, args.rounds))
    postgres = asyncio.run(postgres_facts(config.admin_dsn))
    print(render(phases, args.sessions, describe(postgres, config.kafka_port, REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
