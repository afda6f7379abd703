"""The machine a run was measured on, and CPU use by process group over the measured window."""

import os
import platform
import re
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

ProcessFinder = Callable[[], list[psutil.Process]]


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.processor() or "unknown"


def listener(port: int) -> psutil.Process | None:
    """The local process listening on TCP ``port``, if it can be seen."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for c in connections:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            return psutil.Process(c.pid)
    return None


def kafka_version(port: int) -> str:
    """Read from the broker's class path (``kafka_2.13-4.1.1.jar``) when it runs here."""
    broker = listener(port)
    if broker is None:
        return "unknown (broker not a local process)"
    try:
        command = " ".join(broker.cmdline())
    except psutil.Error:
        return "unknown"
    found = re.search(r"kafka_[\d.]+-(\d+\.\d+\.\d+)\.jar", command)
    return found.group(1) if found else "unknown"


def code_version(repo: Path) -> str:
    """The commit measured, and whether the work tree had changes on top of it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"


def describe(postgres: dict[str, str], kafka_port: int | None, repo: Path) -> dict[str, str]:
    """The machine, the code and the servers; ``kafka_port`` None: a run without Kafka."""
    described = {
        "code": code_version(repo),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": (
            f"{postgres['server_version']} (synchronous_commit={postgres['synchronous_commit']},"
            f" fsync={postgres['fsync']}, shared_buffers={postgres['shared_buffers']})"
        ),
    }
    if kafka_port is not None:
        described["kafka"] = kafka_version(kafka_port)
    return described


def with_children(process: psutil.Process | None) -> list[psutil.Process]:
    if process is None:
        return []
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def child_running(process: psutil.Process | None, module: str) -> list[psutil.Process]:
    """``process``'s child started as ``python -m <module>`` (a service's tallier or relay)."""
    if process is None:
        return []
    try:
        return [c for c in process.children() if module in c.cmdline()[1:4]]
    except psutil.Error:
        return []


def _cpu_seconds(processes: Iterable[psutil.Process]) -> dict[int, float]:
    seconds: dict[int, float] = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def _machine_busy() -> float:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle


@dataclass(frozen=True)
class Sample:
    at: float
    machine: float
    groups: dict[str, dict[int, float]]


class CpuProbe:
    """CPU seconds per second ("cores") used by each group of processes between two samples."""

    def __init__(self, groups: dict[str, ProcessFinder]) -> None:
        self._groups = groups

    def sample(self) -> Sample:
        return Sample(
            at=time.monotonic(),
            machine=_machine_busy(),
            groups={name: _cpu_seconds(find()) for name, find in self._groups.items()},
        )

    @staticmethod
    def cores(before: Sample, after: Sample) -> dict[str, float]:
        wall = after.at - before.at
        used = {
            name: sum(
                s - before.groups[name].get(pid, 0.0) for pid, s in after.groups[name].items()
            )
            for name in after.groups
        }
        result = {name: seconds / wall for name, seconds in used.items()}
        result["machine"] = (after.machine - before.machine) / wall
        result["other"] = max(0.0, result["machine"] - sum(used.values()) / wall)
        return result
