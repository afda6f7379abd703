"""Two local stacks with different homes at once: every file the launcher and the services
write lands under its own stack's GECC_HOME, none in the repository or the temporary folder."""

import asyncio
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gecc.stack.config import REPO_ROOT, StackConfig
from gecc.stack.stack import down, up
from gecc.stack.state import load_state
from services.intake import admin
from services.intake.domain.centers import Center
from shared.topics import Topic
from tests.support.samples import submission_body
from tests.support.stacks import private_stack

ROUND = "FY2570-H1"
CENTER = Center(
    "GECC-0001",
    "สำนักงานเขตพระนคร",
    "Phra Nakhon",
    "PMO/BMA/DISTRICT",
    "กรุงเทพมหานคร",
    contact_emails=("gecc-0001@example.go.th",),
)
# Not state: git's, the virtualenv and tool caches, and bytecode Python writes beside the code.
NOT_STATE = {".git", ".venv", "tools", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
# The test session's own running stack and S3 server (tests/support/infrastructure.py):
# their PostgreSQL writes its files whenever it likes, whatever this test does.
NOT_STATE |= {"test-stack", "test-s3"}
FINISHED = {"reconciled", "mismatch", "failed"}
# Where a JVM keeps a file per process unless told not to (it ignores TMPDIR).
JVM_PERF_DATA = Path("/tmp") / f"hsperfdata_{pwd.getpwuid(os.getuid()).pw_name}"


@pytest.fixture
def configs() -> Iterator[list[StackConfig]]:
    with (
        private_stack("gecc-home1-", "homes1.") as first,
        private_stack("gecc-home2-", "homes2.") as second,
    ):
        yield [first, second]


@pytest.fixture
def outside(configs: list[StackConfig], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The temporary folder the launcher and every process it starts see (TMPDIR), set after
    the homes were made in the usual one."""
    folder = Path(tempfile.mkdtemp(prefix="gecc-outside-"))
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_two_stacks_write_only_under_their_own_homes(
    configs: list[StackConfig], outside: Path
) -> None:
    repository_before = files_under(REPO_ROOT)
    exports: dict[Path, str] = {}
    try:
        for config in configs:
            up(config)
        for config in configs:
            for jvm in ("kafka", "s3proxy"):
                pid = load_state(config.state_file)[jvm].pid
                assert not (JVM_PERF_DATA / str(pid)).exists(), jvm
            exports[config.home] = submit_and_export(config)
        for config in configs:
            wait_for_mail(config)
    finally:
        for config in configs:
            down(config)

    assert files_under(REPO_ROOT) - repository_before == set()
    assert files_under(outside) == set()
    for config in configs:
        written = {path.relative_to(config.home).parts[0] for path in files_under(config.home)}
        assert {"exports", "pmo", "mail", "logs", "postgres", "kafka", "s3proxy"} <= written
        export = config.home / "exports" / ROUND / exports[config.home]
        assert (export / "manifest.json").is_file()
        assert list((config.home / "pmo" / ROUND / exports[config.home]).glob("batch-*.json"))
        others = set(exports.values()) - {exports[config.home]}
        assert not [p for p in files_under(config.home) if others & set(p.parts)]


def files_under(root: Path) -> set[Path]:
    found: set[Path] = set()
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in NOT_STATE]
        found.update(Path(folder) / name for name in names)
    return found


def submit_and_export(config: StackConfig) -> str:
    """A report through intake (scored, mailed) and an export to the PMO receiver; the
    export's id once it finished."""
    center, operator = asyncio.run(registry_and_round(config))
    intake = f"http://{config.service_address('intake')}"
    with httpx.Client(base_url=intake, timeout=10) as client:
        submitted = client.post(
            "/v1/submissions",
            json=submission_body(ROUND),
            headers={"Authorization": f"Bearer {center}", "Idempotency-Key": "homes-1"},
        )
        assert submitted.status_code == 201, submitted.text
        # Asked for before the export service took the center and the report from Kafka,
        # the export would rightly hold neither (the report would follow in a delta).
        held_by_export(config, (Topic.CENTER_REGISTERED, Topic.SUBMISSION_RECEIVED))
        operator_auth = {"Authorization": f"Bearer {operator}"}
        requested = client.post(f"/v1/rounds/{ROUND}/exports", headers=operator_auth)
        assert requested.status_code == 202, requested.text
        deadline = time.monotonic() + 60
        while True:
            found = client.get(f"/v1/rounds/{ROUND}/exports", headers=operator_auth).json()
            done = [e for e in found["exports"] if e["state"] in FINISHED]
            if done:
                return str(done[0]["export_id"])
            assert time.monotonic() < deadline, found
            time.sleep(0.2)


def held_by_export(config: StackConfig, topics: tuple[Topic, ...], within: float = 60.0) -> None:
    """Wait until the export service has processed an event of each of ``topics``."""
    url = f"http://{config.service_address('export')}/metrics"
    deadline = time.monotonic() + within
    while True:
        processed = {
            sample.labels["topic"]
            for family in text_string_to_metric_families(httpx.get(url, timeout=10).text)
            for sample in family.samples
            if sample.name == "gecc_events_consumed_total"
            and sample.labels["outcome"] == "processed"
            and sample.value > 0
        }
        if all(any(t.endswith(topic.value) for t in processed) for topic in topics):
            return
        assert time.monotonic() < deadline, f"the export service processed only {processed}"
        time.sleep(0.2)


async def registry_and_round(config: StackConfig) -> tuple[str, str]:
    """One center, its token and an operator's, and the round open now."""
    conn = await asyncpg.connect(config.service_dsn("intake"))
    try:
        await admin.register_centers(conn, [CENTER])
        center = await admin.issue_token(conn, "center", center_id=CENTER.id)
        operator = await admin.issue_token(conn, "operator", label="homes")
        now = datetime.now(UTC)
        day = timedelta(days=1)
        await admin.set_round_dates(conn, ROUND, now - day, now + 5 * day, now + 9 * day)
    finally:
        await conn.close()
    return center.token, operator.token


def wait_for_mail(config: StackConfig, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not list(config.mail_dir.glob("*.eml")):
        assert time.monotonic() < deadline, f"no mail in {config.mail_dir}"
        time.sleep(0.2)
