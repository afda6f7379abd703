"""`gecc pmo-receiver` as its own process, as the stack and the export service use it: signed
batches stored once, refusals, counts, a delta, failure injection and a restart. No Kafka or
PostgreSQL needed."""

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gecc.pmo_receiver.app import MAX_BODY_BYTES
from gecc.pmo_receiver.client import signed_get_headers, signed_headers
from tests.support.services import free_port

SECRET = "integration-pmo-secret"
ROUND = "FY2570-H1"
REPO = Path(__file__).resolve().parents[2]


class ReceiverProcess:
    def __init__(self, directory: Path, log: Path) -> None:
        self.directory = directory
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--dir", str(self.directory)],
                cwd=REPO,
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the receiver exited:\n{self.log.read_text()}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1, trust_env=False).is_success:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the receiver did not answer /health:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def post(
        self,
        path: str,
        payload: dict[str, Any],
        key: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        timeout: float = 10,
    ) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = signed_headers(secret, body, key, timestamp)
        return httpx.post(
            f"{self.url}{path}", content=body, headers=headers, timeout=timeout, trust_env=False
        )

    def get(self, path: str) -> Any:
        headers = signed_get_headers(SECRET, path)
        response = httpx.get(f"{self.url}{path}", headers=headers, timeout=10, trust_env=False)
        assert response.status_code == 200, response.text
        return response.json()

    def control(self, **changes: float) -> Any:
        response = httpx.put(f"{self.url}/control", json=changes, timeout=10, trust_env=False)
        assert response.status_code == 200, response.text
        return response.json()

    def stored(self) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in sorted(self.directory.rglob("batch-*.json"))}

    def peak_memory(self) -> int:
        """The most resident memory the process ever had, in bytes (Linux: VmHWM)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(kib) * 1024


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path / "pmo", tmp_path / "pmo.log")
    try:
        yield process
    finally:
        process.stop()


def batch(n: int, records: list[dict[str, Any]], export_id: str, kind: str = "full") -> Any:
    return {"export_id": export_id, "round_id": ROUND, "kind": kind, "batch": n, "records": records}


def rec(center: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"center_id": center, "status": status, "name_th": f"ศูนย์ {center}", **extra}


def path(n: int) -> str:
    return f"/gecc/v1/rounds/{ROUND}/batches/{n}"


MODULE = [sys.executable, "-m", "gecc.pmo_receiver", "--host", "127.0.0.1"]
CLI = [str(Path(sys.executable).with_name("gecc")), "pmo-receiver", "--host", "127.0.0.1"]


def test_the_receiver_stores_once_refuses_counts_injects_and_survives_a_restart(
    receiver: ReceiverProcess,
) -> None:
    receiver.start([*MODULE, "--secret", SECRET, "--seed", "1"])
    first = batch(1, [rec("C1", "on_time"), rec("C2", "missing")], "full-1")

    # Stored, then the same again: a duplicate, stored once.
    stored = receiver.post(path(1), first, "full-1/1")
    assert stored.status_code == 201, stored.text
    assert stored.json() == {"export_id": "full-1", "batch": 1, "accepted": 2, "duplicate": False}
    again = receiver.post(path(1), first, "full-1/1")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    files = receiver.stored()
    assert list(files) == [receiver.directory / ROUND / "full-1" / "batch-00001.json"]
    saved = json.loads(next(iter(files.values())))
    assert saved["idempotency_key"] == "full-1/1"
    assert saved["body"]["records"][0]["name_th"] == "ศูนย์ C1"

    # The same key with another body; a wrong signature; a stale timestamp.
    other = batch(1, [rec("C1", "late")], "full-1")
    assert receiver.post(path(1), other, "full-1/1").status_code == 422
    wrong = receiver.post(path(1), first, "full-1/1", secret="guessed")
    assert wrong.status_code == 401
    assert "does not match" in wrong.json()["reason"]
    stale = receiver.post(path(1), first, "full-1/1", timestamp=int(time.time()) - 400)
    assert stale.status_code == 401
    assert "old" in stale.json()["reason"]
    assert receiver.stored() == files

    # The second batch, then the manifest: counted from what was stored.
    assert receiver.post(path(2), batch(2, [rec("C3", "late")], "full-1"), "full-1/2").is_success
    manifest = {
        "export_id": "full-1",
        "round_id": ROUND,
        "kind": "full",
        "batches": 2,
        "records": 3,
        "counts": {"on_time": 1, "late": 1, "missing": 1},
        "files": {"csv": {"sha256": "00" * 32, "bytes": 123}},
    }
    answered = receiver.post(f"/gecc/v1/rounds/{ROUND}/manifest", manifest, "full-1/manifest")
    assert answered.status_code == 200, answered.text
    assert answered.json() == {
        "export_id": "full-1",
        "batches_received": 2,
        "records_received": 3,
        "records_by_status": {"on_time": 1, "late": 1, "missing": 1},
        "complete": True,
    }
    short = {**manifest, "batches": 3, "records": 4}
    incomplete = receiver.post(f"/gecc/v1/rounds/{ROUND}/manifest", short, "full-1/manifest-2")
    assert incomplete.json()["complete"] is False

    # A late submission of C2 arrives as a delta: it replaces C2's record.
    delta = batch(1, [rec("C2", "late", version=2)], "delta-1", kind="delta")
    assert receiver.post(path(1), delta, "delta-1/1").status_code == 201
    view = receiver.get(f"/gecc/v1/rounds/{ROUND}/records")
    assert view["records"] == [
        rec("C1", "on_time"),
        rec("C2", "late", version=2),
        rec("C3", "late"),
    ]
    assert (view["batches"], view["duplicates_refused"]) == (3, 1)

    # Slow: the client gives up, the receiver has stored it; the retry is a duplicate.
    receiver.control(slow_share=1.0, slow_seconds=1.5)
    slow = batch(2, [rec("C4", "on_time")], "delta-1", kind="delta")
    with pytest.raises(httpx.ReadTimeout):
        receiver.post(path(2), slow, "delta-1/2", timeout=0.5)
    receiver.control(slow_share=0.0)
    retried = receiver.post(path(2), slow, "delta-1/2")
    assert (retried.status_code, retried.json()["duplicate"]) == (200, True)
    before_restart = receiver.stored()
    assert len(before_restart) == 4
    counters = receiver.get("/control")["counters"]
    assert counters["stored"] == 4
    assert counters["duplicates"] == 2
    assert counters["refused_signature"] == 2
    assert counters["slowed"] == 1
    receiver.stop()

    # Restarted through `gecc pmo-receiver`, the secret from the environment, every POST failing.
    receiver.start([*CLI, "--fail-share", "1.0", "--seed", "2"], {"GECC_PMO_SECRET": SECRET})
    assert receiver.get("/health")["batches"] == 4
    new = batch(3, [rec("C5", "on_time")], "delta-1", kind="delta")
    for payload, key in ((new, "delta-1/3"), (first, "full-1/1"), (new, "delta-1/3")):
        n = payload["batch"]
        assert receiver.post(path(n), payload, key).status_code == 503
    assert receiver.post(f"/gecc/v1/rounds/{ROUND}/manifest", manifest, "m").status_code == 503
    assert receiver.stored() == before_restart
    assert receiver.get("/control")["counters"]["failed_injected"] == 4

    # Failures off: the reloaded index still recognises the first batch.
    receiver.control(fail_share=0.0)
    replay = receiver.post(path(1), first, "full-1/1")
    assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
    assert receiver.post(path(1), other, "full-1/1").status_code == 422
    assert receiver.stored() == before_restart
    assert receiver.get(f"/gecc/v1/rounds/{ROUND}/records")["records"] == [
        *view["records"],
        rec("C4", "on_time"),
    ]


# -- what an attacker sends ------------------------------------------------------------------

MIB = 1024 * 1024
ATTACK_MIB = 200


@dataclass(frozen=True)
class Answer:
    sent: int  # body bytes the client had sent when the answer arrived
    status: int
    head: str
    closed: bool  # the server closed the connection right after answering


def send_until_answered(port: int, head: bytes, pieces: Iterable[bytes]) -> Answer:
    """Send the request head, then the body piece by piece, looking for an answer before each
    piece (and stopping there, or when the server closes the connection). ``closed``: the
    server closed the connection within 3 s of its answer (its keep-alive timeout is 5 s)."""
    sent = 0
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(head)
        for piece in pieces:
            if select.select([client], [], [], 0.005)[0]:
                break
            try:
                client.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        client.settimeout(3)
        try:
            while chunk := client.recv(65536):
                received += chunk
            closed = True
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
    head_text = received.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert head_text.startswith("HTTP/1.1 "), f"no answer after {sent} bytes: {received!r}"
    return Answer(sent, int(head_text.split()[1]), head_text, closed)


def request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def plain(mib: int) -> Iterator[bytes]:
    piece = b"x" * MIB
    return (piece for _ in range(mib))


def chunked(mib: int) -> Iterator[bytes]:
    piece = f"{MIB:x}\r\n".encode() + b"x" * MIB + b"\r\n"
    yield from (piece for _ in range(mib))
    yield b"0\r\n\r\n"


def well_formed(key: str) -> dict[str, str]:
    """Fresh and well formed but not over the body sent: only reading the body could tell."""
    return signed_headers(SECRET, b"another body", key)


ATTACKS: dict[str, tuple[Callable[[], dict[str, str]], Any, int, int]] = {
    # name: (the headers, signed when the test runs; the body's pieces; status; body bytes
    # the server may have taken in)
    "200 MiB declared": (
        lambda: {**well_formed("k1"), "Content-Length": str(ATTACK_MIB * MIB)},
        plain,
        413,
        32 * MIB,  # what socket buffers hold before the answer is seen
    ),
    "200 MiB chunked": (
        lambda: {**well_formed("k2"), "Transfer-Encoding": "chunked"},
        chunked,
        413,
        MAX_BODY_BYTES + 32 * MIB,
    ),
    "200 MiB declared, unsigned": (
        lambda: {"Idempotency-Key": "k3", "Content-Length": str(ATTACK_MIB * MIB)},
        plain,
        401,
        32 * MIB,
    ),
    "200 MiB chunked, unsigned": (
        lambda: {"Idempotency-Key": "k4", "Transfer-Encoding": "chunked"},
        chunked,
        401,
        32 * MIB,
    ),
}


@pytest.mark.parametrize(
    ("headers", "pieces", "status", "taken_in"), ATTACKS.values(), ids=ATTACKS.keys()
)
def test_an_oversized_or_unsigned_body_is_refused_without_being_read(
    receiver: ReceiverProcess,
    headers: Callable[[], dict[str, str]],
    pieces: Callable[[int], Iterator[bytes]],
    status: int,
    taken_in: int,
) -> None:
    receiver.start([*MODULE, "--secret", SECRET])
    assert receiver.post(path(1), batch(1, [rec("C1", "on_time")], "e"), "e/1").status_code == 201
    before = receiver.peak_memory()

    head = request_head(path(2), headers())
    answer = send_until_answered(receiver.port, head, pieces(ATTACK_MIB))

    assert answer.status == status, answer.head
    # Answered long before the client could finish sending, then the connection closed.
    assert answer.sent <= taken_in, f"answered after {answer.sent / MIB:.0f} MiB"
    assert answer.closed and "connection: close" in answer.head.lower()
    grown = receiver.peak_memory() - before
    assert grown < ATTACK_MIB * MIB // 4, f"the receiver grew by {grown / MIB:.0f} MiB"
    assert receiver.get("/health")["batches"] == 1


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
BAD_HEADER_BYTES = (
    ("X-GECC-Signature", b"sha256=" + b"\xe9" * 64),
    ("X-GECC-Signature", ("sha256=" + "ศ" * 21 + "a").encode()),
    ("X-GECC-Timestamp", str(int(time.time())).translate(ARABIC_INDIC).encode()),
    ("X-GECC-Timestamp", b"9" * 400),
)


def with_raw(headers: dict[str, str], name: str, value: bytes) -> list[tuple[bytes, bytes]]:
    """``headers`` with the value of ``name`` replaced by raw bytes."""
    return [(k.encode(), value if k == name else v.encode()) for k, v in headers.items()]


def test_any_bad_signature_header_value_is_401_never_500(receiver: ReceiverProcess) -> None:
    receiver.start([*MODULE, "--secret", SECRET])
    body = json.dumps(batch(1, [rec("C1", "on_time")], "e")).encode()
    records = f"/gecc/v1/rounds/{ROUND}/records"
    for name, value in BAD_HEADER_BYTES:
        headers = with_raw(signed_headers(SECRET, body, "e/1"), name, value)
        posted = httpx.post(
            f"{receiver.url}{path(1)}", content=body, headers=headers, timeout=10, trust_env=False
        )
        assert posted.status_code == 401, (name, value, posted.text)
        headers = with_raw(signed_get_headers(SECRET, records), name, value)
        got = httpx.get(f"{receiver.url}{records}", headers=headers, timeout=10, trust_env=False)
        assert got.status_code == 401, (name, value, got.text)
    assert receiver.stored() == {}


def test_reading_a_round_takes_a_signature_over_its_own_path(receiver: ReceiverProcess) -> None:
    receiver.start([*MODULE, "--secret", SECRET])
    assert receiver.post(path(1), batch(1, [rec("C1", "late")], "e"), "e/1").status_code == 201
    records = f"/gecc/v1/rounds/{ROUND}/records"
    other = "/gecc/v1/rounds/FY2570-H2/records"

    def get(url_path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(f"{receiver.url}{url_path}", headers=headers, timeout=10, trust_env=False)

    unsigned = get(records)
    assert unsigned.status_code == 401, unsigned.text
    assert "missing X-GECC-Timestamp" in unsigned.json()["reason"]
    assert receiver.get(records)["records"] == [rec("C1", "late")]
    # Round A's signature used on round B; another secret; a stale one.
    replayed = get(other, signed_get_headers(SECRET, records))
    assert replayed.status_code == 401, replayed.text
    assert "does not match" in replayed.json()["reason"]
    assert get(other, signed_get_headers(SECRET, other)).status_code == 200
    assert get(records, signed_get_headers("guessed", records)).status_code == 401
    stale = signed_get_headers(SECRET, records, int(time.time()) - 400)
    assert get(records, stale).status_code == 401
