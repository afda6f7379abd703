"""The state file: which processes ``gecc stack up`` started, so ``down`` stops exactly those."""

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from gecc.stack.errors import StackError


@dataclass(frozen=True)
class ProcessRecord:
    """A process we started; ``command`` and ``started_at`` tell it apart from a reused pid."""

    pid: int
    command: tuple[str, ...]
    address: str
    started_at: str

    @property
    def started_epoch(self) -> float:
        return datetime.fromisoformat(self.started_at).timestamp()


def load_state(path: Path) -> dict[str, ProcessRecord]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            component: ProcessRecord(
                pid=int(entry["pid"]),
                command=tuple(entry["command"]),
                address=str(entry["address"]),
                started_at=str(entry["started_at"]),
            )
            for component, entry in raw.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise StackError(
            f"state file {path} is unreadable ({err}): stop any leftover java/postgres/service "
            "processes by hand, then delete the file"
        ) from err


def save_state(path: Path, state: dict[str, ProcessRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {component: asdict(record) for component, record in state.items()}
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def remember(path: Path, component: str, record: ProcessRecord) -> None:
    save_state(path, {**load_state(path), component: record})


def forget(path: Path, component: str) -> None:
    state = load_state(path)
    if state.pop(component, None) is not None:
        save_state(path, state)


@contextmanager
def exclusive(home: Path) -> Iterator[None]:
    """Hold the stack's lock so two ``up``/``down`` runs on one home do not interleave."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "stack.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another gecc stack command using {home} ...", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
