"""Benchmark of the export to OPS/PMO: time to build and to deliver a round of N centers with
the export service's own use cases (``services.export.handlers``), beside two baselines
measured in the same run on the same data:

- build (``handlers.build``: records from the export schema, JSONL + CSV + XLSX + manifest,
  batches of 500 with their bodies and the fingerprints stored in PostgreSQL) against
  **baseline a, records only**: the same ``handlers.round_records``, the records written as
  JSON Lines to one file, nothing else;
- delivery (``handlers.deliver``: each batch POSTed signed through ``PmoClient`` and
  acknowledged in the database, then the manifest and the reconciliation) against
  **baseline b, raw delivery**: the same batch bodies and manifest (under a new export id,
  so the receiver stores them again) POSTed one after the other with a plain httpx client,
  signed before the clock starts, nothing written to the database.

Where the time goes inside each is what the use cases time themselves (``Timings``).

Both go to the reference receiver (``python -m gecc.pmo_receiver``) started for the run.
Usage::

    .venv/bin/python -m bench.export [--sizes 1343,134300] [--json PATH] [--keep]

See ``docs/benchmarks.md`` for what is measured and the results.
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
import httpx
import psutil
from prometheus_client import CollectorRegistry

from bench import export_data, fixtures
from bench.export_report import render
from bench.export_writers import FORMATS, write_alone
from bench.fixtures import BenchDatabase
from bench.intake import free_port, stop, wait_quiet
from bench.machine import CpuProbe, describe, listener, with_children
from gecc.bootstrap import on_database, prepare_database, quote_ident, with_login
from gecc.pmo_receiver import API_PREFIX
from gecc.pmo_receiver.client import signed_headers
from services.export import handlers
from services.export.adapters import repository
from services.export.adapters.evidence import EvidenceSource
from services.export.adapters.files import MANIFEST
from services.export.adapters.pmo import PmoClient
from services.export.domain import batches as batching
from services.export.domain import dataset
from services.export.domain.dataset import ExportRecord
from services.export.metrics import ExportMetrics, Timings
from shared.database import create_pool
from shared.object_storage import ObjectStorage, ObjectStorageConfig
from shared.retry import RetryPolicy

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_SIZES = (1343, 134300)
SECRET = "gecc-bench-export-secret"
# The service's default is 10 s. A timeout fails the run (the export is not reconciled: the
# exporter counts a failed attempt and returns), so the bench allows more.
PMO_TIMEOUT = 60.0
LIBRARIES = ("openpyxl", "httpx", "asyncpg", "uvicorn", "starlette", "pydantic")


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    admin_url: str
    database: str
    json_path: Path | None
    keep: bool
    batch_size: int
    breakdown: bool
    formats: bool
    unscored: float
    quiet_wait: float


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("a comma list of center counts, each at least 1")
    return sizes


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.export",
        description=(
            "Time to build and deliver a round's export with the export's use cases, beside a"
            " records-only build (a) and a raw delivery of the same bodies (b) in the same run."
        ),
    )
    add = parser.add_argument
    add("--sizes", type=_sizes, default=DEFAULT_SIZES, help="centers per round (1343,134300)")
    add("--admin-url", default=os.environ.get("GECC_DATABASE_URL", DEFAULT_ADMIN_URL))
    add("--database", default="gecc_bench_export", help="recreated on every run")
    add("--json", dest="json_path", type=Path, help="also write the results here")
    add("--keep", action="store_true", help="keep the temporary directory (files, logs)")
    add("--batch-size", type=int, default=batching.BATCH_SIZE, help="records per batch (500)")
    add("--no-breakdown", dest="breakdown", action="store_false", help="no parts table")
    add("--no-formats", dest="formats", action="store_false", help="skip writers-alone timing")
    add("--unscored", type=float, default=0.0, help="share of latest versions not yet scored")
    add("--quiet-wait", type=float, default=60.0, help="seconds to wait for an idle machine")
    args = parser.parse_args(argv)
    if not args.database.startswith("gecc_bench"):
        parser.error("--database must start with gecc_bench (it is dropped)")
    if not 1 <= args.batch_size <= 500:
        parser.error("--batch-size is 1..500 (the receiver takes at most 500 records)")
    return Options(**vars(args))


# -- timing ---------------------------------------------------------------------------------


@dataclass
class Span:
    """Wall seconds of a phase and the cores each process group used over it."""

    seconds: float = 0.0
    cores: dict[str, float] = field(default_factory=dict)


class Clock:
    """Phases measured with wall time and CPU use of the bench, the receiver, PostgreSQL."""

    def __init__(self, probe: CpuProbe) -> None:
        self._probe = probe

    @contextmanager
    def phase(self, span: Span) -> Iterator[None]:
        before = self._probe.sample()
        started = time.perf_counter()
        try:
            yield
        finally:
            span.seconds = time.perf_counter() - started
            cores = CpuProbe.cores(before, self._probe.sample())
            span.cores = {k: round(v, 3) for k, v in cores.items()}


# Parts of handlers.build and handlers.deliver, as they time themselves.
BUILD_PARTS = ("records", "files", "bodies", "fingerprints", "save")
DELIVERY_PARTS = ("read", "post", "ack", "manifest")


class RecordingPmo(PmoClient):
    """The real client; each call's body also kept, for baseline b to send the same bytes."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, secret: str) -> None:
        super().__init__(client, base_url, secret)
        self.batches: list[tuple[int, bytes]] = []
        self.manifest = b""

    async def send_batch(
        self, round_id: str, number: int, idempotency_key: str, body: bytes
    ) -> dict[str, Any]:
        self.batches.append((number, body))
        return await super().send_batch(round_id, number, idempotency_key, body)

    async def send_manifest(
        self, round_id: str, idempotency_key: str, body: bytes
    ) -> dict[str, Any]:
        self.manifest = body
        return await super().send_manifest(round_id, idempotency_key, body)


# -- the receiver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Receiver:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


@contextmanager
def receiver(directory: Path, log: Path) -> Iterator[Receiver]:
    """``python -m gecc.pmo_receiver`` on a free port, ready (``/health``); stopped after."""
    port = free_port()
    argv = [sys.executable, "-m", "gecc.pmo_receiver", "--port", str(port)]
    argv += ["--dir", str(directory), "--secret", SECRET]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the receiver exited with {process.returncode}:\n{_tail(log)}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the receiver is not ready within 30 s:\n{_tail(log)}")
            time.sleep(0.1)
        yield Receiver(url, process, log)
    finally:
        stop([process])


# -- one size -------------------------------------------------------------------------------


@dataclass
class Result:
    centers: int
    records: int = 0
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    data: dict[str, int] = field(default_factory=dict)
    state: str = ""
    fill_seconds: float = 0.0
    build: Span = field(default_factory=Span)
    delivery: Span = field(default_factory=Span)
    total: Span = field(default_factory=Span)
    records_only: Span = field(default_factory=Span)
    raw_delivery: Span = field(default_factory=Span)
    build_parts: dict[str, float] = field(default_factory=dict)
    delivery_parts: dict[str, float] = field(default_factory=dict)
    records_only_parts: dict[str, float] = field(default_factory=dict)
    writers_alone: dict[str, float] = field(default_factory=dict)
    file_bytes: dict[str, int] = field(default_factory=dict)
    batch_bytes: int = 0
    peak_rss_mib: float = 0.0
    background: float = 0.0


@dataclass(frozen=True)
class Context:
    options: Options
    db: BenchDatabase
    pool: asyncpg.Pool
    client: httpx.AsyncClient
    receiver: Receiver
    clock: Clock
    work: Path


def _records_jsonl(path: Path, records: list[ExportRecord]) -> None:
    """Baseline a's file: the records as files.py writes its JSON Lines, fsynced."""
    with path.open("w", encoding="utf-8", newline="\n") as lines:
        for record in records:
            value = record.to_json()
            lines.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        lines.flush()
        os.fsync(lines.fileno())


async def fetch_records(pool: asyncpg.Pool, round_id: str) -> list[ExportRecord]:
    async with pool.acquire() as conn:
        return await handlers.round_records(conn, round_id)


async def records_only(ctx: Context, result: Result, round_id: str) -> list[ExportRecord]:
    """Baseline a: round_records + one JSONL file (in a thread, as write_dataset)."""
    path = ctx.work / "baseline-a" / f"{result.centers}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with ctx.clock.phase(result.records_only):
        started = time.perf_counter()
        records = await fetch_records(ctx.pool, round_id)
        fetched = time.perf_counter()
        await asyncio.to_thread(_records_jsonl, path, records)
        written = time.perf_counter()
    result.records_only_parts = {"records": fetched - started, "jsonl": written - fetched}
    result.file_bytes["baseline a .jsonl"] = path.stat().st_size
    return records


async def export_round(ctx: Context, result: Result, round_id: str, pmo: RecordingPmo) -> UUID:
    """The real export, as the exporter's ``work_once`` runs it: claimed, built, delivered."""
    async with ctx.pool.acquire() as conn:
        export_id = await repository.create_export(conn, round_id, "full", "operator", uuid4())
        claimed = await repository.claim_export(conn, 60.0)
    assert export_id is not None and claimed is not None and claimed.id == export_id
    metrics = ExportMetrics(CollectorRegistry())
    # A failed attempt ends the delivery (the export waits for a retry), and the run below.
    policy = RetryPolicy(max_attempts=1)
    build, delivery = Timings(), Timings()
    with ctx.clock.phase(result.total):
        with ctx.clock.phase(result.build):
            built = await handlers.build(
                claimed, ctx.pool, ctx.work / "exports", ctx.options.batch_size, metrics, build
            )
        with ctx.clock.phase(result.delivery):
            # The bench's submissions reference no evidence: object storage is never read.
            source = EvidenceSource(ObjectStorage(ObjectStorageConfig()))
            await handlers.deliver(built, ctx.pool, pmo, source, policy, metrics, delivery)
    if ctx.options.breakdown:
        result.build_parts = {k: build.seconds.get(k, 0.0) for k in BUILD_PARTS}
        result.delivery_parts = {k: delivery.seconds.get(k, 0.0) for k in DELIVERY_PARTS}
    async with ctx.pool.acquire() as conn:
        done = await repository.get_export(conn, export_id)
    result.state, result.records, result.batches = done.state, done.records, done.batches
    result.counts = {k: v for k, v in done.counts.items() if k != "total"}
    result.batch_bytes = sum(len(body) for _, body in pmo.batches)
    assert done.directory is not None
    manifest = json.loads((Path(done.directory) / MANIFEST).read_text(encoding="utf-8"))
    result.file_bytes.update({f["name"]: f["bytes"] for f in manifest["files"]})
    if result.state != "reconciled":
        raise RuntimeError(
            f"export {export_id} ended {result.state!r}: {done.last_error}"
            f" (ours {done.counts}, theirs {done.acknowledged})"
        )
    return export_id


async def raw_delivery(
    ctx: Context, result: Result, round_id: str, export_id: UUID, sent: RecordingPmo
) -> None:
    """Baseline b: the same bodies under a new export id, POSTed with a plain client."""
    old, new = str(export_id).encode(), str(uuid4()).encode()
    base = f"{ctx.receiver.url}{API_PREFIX}/rounds/{round_id}"
    calls: list[tuple[str, bytes, str]] = []
    for number, body in sent.batches:
        if body.count(old) != 1:
            raise RuntimeError(f"batch {number} names its export {body.count(old)} times")
        calls.append((f"{base}/batches/{number}", body.replace(old, new), f"{number}"))
    if sent.manifest.count(old) != 1:
        raise RuntimeError("the manifest call does not name its export once")
    calls.append((f"{base}/manifest", sent.manifest.replace(old, new), "manifest"))
    # Signed now, before the clock starts: the receiver refuses unsigned calls (401), and the
    # baseline is the transfer and the receiver's work, not the signing.
    signed = [
        (url, body, signed_headers(SECRET, body, f"{new.decode()}:{key}"))
        for url, body, key in calls
    ]
    answer: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=PMO_TIMEOUT) as client:
        with ctx.clock.phase(result.raw_delivery):
            for url, body, headers in signed:
                response = await client.post(url, content=body, headers=headers)
                response.raise_for_status()
            answer = response.json()
    if not answer.get("complete") or answer.get("records_received") != result.records:
        raise RuntimeError(f"raw delivery incomplete: {answer}")


def writers_alone(ctx: Context, result: Result, records: list[ExportRecord]) -> None:
    directory = ctx.work / "writers" / str(result.centers)
    directory.mkdir(parents=True, exist_ok=True)
    for name in FORMATS:
        started = time.perf_counter()
        write_alone(name, records, directory)
        result.writers_alone[name] = time.perf_counter() - started


async def measure_size(ctx: Context, centers: int) -> Result:
    result = Result(centers)
    round_id = export_data.ROUND.id
    started = time.perf_counter()
    data = export_data.build(centers, fixtures.standard(), unscored=ctx.options.unscored)
    conn = await export_data.connect(ctx.db.superuser_url)
    try:
        await export_data.fill(conn, data)
    finally:
        await conn.close()
    result.data = export_data.summary(data)
    result.fill_seconds = time.perf_counter() - started
    del data
    print(f"{centers:,} centers: filled in {result.fill_seconds:.1f} s", file=sys.stderr)
    await fetch_records(ctx.pool, round_id)  # warm PostgreSQL's cache and the pool; untimed
    result.background = await asyncio.to_thread(wait_quiet, ctx.options.quiet_wait)
    records = await records_only(ctx, result, round_id)
    print(f"  records only {result.records_only.seconds:.2f} s", file=sys.stderr)
    pmo = RecordingPmo(ctx.client, ctx.receiver.url, SECRET)
    export_id = await export_round(ctx, result, round_id, pmo)
    print(
        f"  build {result.build.seconds:.2f} s, delivery {result.delivery.seconds:.2f} s",
        file=sys.stderr,
    )
    # The receiver agreed with the export's counts (reconciled); they must also be those of
    # baseline a's records, built by the same code from the same rows.
    expected = {k: v for k, v in dataset.counts(records).items() if k != "total"}
    if result.counts != expected or result.records != centers:
        raise RuntimeError(f"exported {result.records} records {result.counts}, not {expected}")
    await raw_delivery(ctx, result, round_id, export_id, pmo)
    print(f"  raw delivery {result.raw_delivery.seconds:.2f} s", file=sys.stderr)
    if ctx.options.formats:
        await asyncio.to_thread(writers_alone, ctx, result, records)
        print(f"  writers alone {result.writers_alone}", file=sys.stderr)
    result.peak_rss_mib = _peak_rss_mib()
    return result


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the run --------------------------------------------------------------------------------


async def recreate(db: BenchDatabase) -> dict[str, str]:
    """Drop and prepare the bench database (roles, schemas, migrations); no Kafka needed."""
    server = await asyncpg.connect(on_database(db.admin_url, "postgres"))
    try:
        await server.execute(f"DROP DATABASE IF EXISTS {quote_ident(db.name)} WITH (FORCE)")
    finally:
        await server.close()
    await prepare_database(db.admin_url, db.name)
    return await fixtures.server_facts(db)


def _probe(receiver_process: subprocess.Popen[bytes], postgres_port: int) -> CpuProbe:
    me = psutil.Process()
    pmo = psutil.Process(receiver_process.pid)
    postmaster = listener(postgres_port)
    return CpuProbe(
        {
            "bench": lambda: [me],
            "receiver": lambda: [pmo],
            "postgres": lambda: with_children(postmaster),
        }
    )


async def run(options: Options, work: Path, rec: Receiver) -> tuple[list[Result], dict[str, str]]:
    db = BenchDatabase(options.admin_url, options.database)
    postgres = await recreate(db)
    port = urlsplit(options.admin_url).port or 5432
    clock = Clock(_probe(rec.process, port))
    pool = await create_pool(with_login(db.admin_url, "export", db.name))
    try:
        async with httpx.AsyncClient(timeout=PMO_TIMEOUT) as client:
            ctx = Context(options, db, pool, client, rec, clock, work)
            results = [await measure_size(ctx, n) for n in options.sizes]
    finally:
        await pool.close()
    return results, postgres


def libraries() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    when = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="gecc-bench-export-"))
    try:
        (work / "pmo").mkdir()
        with receiver(work / "pmo", work / "receiver.log") as rec:
            try:
                results, postgres = asyncio.run(run(options, work, rec))
            except KeyboardInterrupt:
                print("interrupted; the receiver is stopped", file=sys.stderr)
                return 130
        machine = describe(postgres, None, REPO)
        machine["libraries"] = libraries()
        machine["files"] = f"{work} ({_filesystem(work)})"
        print(render(options, when, results, machine))
        if options.json_path is not None:
            document = {
                "settings": {k: str(v) for k, v in asdict(options).items() if k != "admin_url"},
                "date": when.isoformat(),
                "machine": machine,
                "results": [asdict(r) for r in results],
            }
            options.json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    finally:
        if options.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _filesystem(path: Path) -> str:
    best = None
    for part in psutil.disk_partitions(all=True):
        if str(path).startswith(part.mountpoint) and (
            best is None or len(part.mountpoint) > len(best.mountpoint)
        ):
            best = part
    return f"{best.fstype} on {best.device}" if best else "unknown"


if __name__ == "__main__":
    sys.exit(main())
