"""Stored batches: one JSON file each, an index of idempotency keys, the counts the API answers.

Layout under the receiver's directory::

    <round>/<export_id>/batch-00001.json   one per stored batch, written whole or not at all
    <round>/<export_id>/manifest.json      the latest manifest received for that export

Round and export ids are percent-encoded into directory names (only ``A-Z a-z 0-9 - _`` are
kept), so no id can reach outside the directory. Every file carries its ``Idempotency-Key``
and the SHA-256 of the exact body, so a restarted receiver rebuilds its index from the files
alone and still answers a repeat as a duplicate.

Not thread-safe: the server calls it under one lock.
"""

import hashlib
import json
import os
import string
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from gecc.pmo_receiver.contract import STATUSES, BatchBody, ManifestBody

BATCH_GLOB = "*/*/batch-*.json"
MANIFEST_NAME = "manifest.json"
_KEEP = frozenset(string.ascii_letters + string.digits + "-_")

BatchId = tuple[str, str, int]  # round_id, export_id, batch number


class StorageError(Exception):
    """A stored file cannot be read back: the directory was changed by hand."""


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    KEY_REUSED = "key_reused"
    BATCH_CONFLICT = "batch_conflict"


@dataclass(frozen=True)
class StoredBatch:
    round_id: str
    export_id: str
    kind: str
    batch: int
    idempotency_key: str
    body_sha256: str
    stored_at_ns: int
    records: tuple[Mapping[str, Any], ...]

    @property
    def id(self) -> BatchId:
        return (self.round_id, self.export_id, self.batch)

    @property
    def accepted(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class KeyUse:
    """What an idempotency key was first used for: the body's hash and what it targets."""

    body_sha256: str
    target: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    batch: StoredBatch | None = None
    reason: str = ""


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def batch_target(round_id: str, export_id: str, batch: int) -> tuple[str, ...]:
    return ("batch", round_id, export_id, str(batch))


def manifest_target(round_id: str, export_id: str) -> tuple[str, ...]:
    return ("manifest", round_id, export_id)


def decide_batch(
    keys: Mapping[str, KeyUse],
    batches: Mapping[BatchId, StoredBatch],
    key: str,
    body_sha256: str,
    batch_id: BatchId,
) -> Decision:
    """Store, or answer with what is stored, or refuse: the idempotency rules in one place.

    - a key seen before with the same body and batch: a duplicate (nothing stored);
    - a key seen before with anything else: refused (a key names one request only);
    - a new key for a batch already stored with the same body: a duplicate too (a client
      that lost its key; still stored once);
    - a new key for a batch already stored with another body: refused (a batch number of an
      export is written once; a correction is a new delta export).
    """
    existing = batches.get(batch_id)
    used = keys.get(key)
    if used is not None:
        if used.body_sha256 == body_sha256 and used.target == batch_target(*batch_id):
            return Decision(Outcome.DUPLICATE, existing)
        return Decision(
            Outcome.KEY_REUSED,
            reason=(
                f"Idempotency-Key {key!r} was already used for another request "
                f"({'/'.join(used.target)}, body sha256 {used.body_sha256[:12]}...): "
                "use a new key for a different body"
            ),
        )
    if existing is not None:
        if existing.body_sha256 == body_sha256:
            return Decision(Outcome.DUPLICATE, existing)
        round_id, export_id, number = batch_id
        return Decision(
            Outcome.BATCH_CONFLICT,
            existing,
            reason=(
                f"batch {number} of export {export_id!r} (round {round_id!r}) is already "
                f"stored with other content under Idempotency-Key {existing.idempotency_key!r}"
            ),
        )
    return Decision(Outcome.STORED)


def path_component(value: str) -> str:
    """``value`` as one safe directory name: anything but ``A-Za-z0-9-_`` percent-encoded."""
    return "".join(
        char if char in _KEEP else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in value
    )


def write_atomically(path: Path, payload: Mapping[str, Any]) -> None:
    """Write JSON to a temporary file beside ``path``, fsync it, rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(payload, file, ensure_ascii=False, indent=1)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class BatchStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._keys: dict[str, KeyUse] = {}
        self._batches: dict[BatchId, StoredBatch] = {}
        self._manifest_keys: dict[tuple[str, str], str] = {}
        self._duplicates: Counter[str] = Counter()
        self._last_ns = 0

    @classmethod
    def open(cls, directory: Path) -> "BatchStore":
        store = cls(directory)
        store.load()
        return store

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> int:
        """Rebuild the index from the directory (oldest stored first); answer the batches."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.directory.glob("*/*/.*.tmp"):
            leftover.unlink(missing_ok=True)  # a write interrupted before its rename
        loaded = [self._read_batch(path) for path in self.directory.glob(BATCH_GLOB)]
        for batch in sorted(loaded, key=lambda b: (b.stored_at_ns, b.id)):
            self._index(batch)
        for path in self.directory.glob(f"*/*/{MANIFEST_NAME}"):
            data = self._read_json(path)
            body = data["body"]
            target = manifest_target(body["round_id"], body["export_id"])
            self._keys.setdefault(data["idempotency_key"], KeyUse(data["body_sha256"], target))
        return len(loaded)

    def _read_json(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return data
        except (OSError, ValueError) as error:
            raise StorageError(f"{path} cannot be read back ({error}): move it away") from error

    def _read_batch(self, path: Path) -> StoredBatch:
        data = self._read_json(path)
        try:
            return StoredBatch(
                round_id=str(data["round_id"]),
                export_id=str(data["export_id"]),
                kind=str(data["kind"]),
                batch=int(data["batch"]),
                idempotency_key=str(data["idempotency_key"]),
                body_sha256=str(data["body_sha256"]),
                stored_at_ns=int(data["stored_at_ns"]),
                records=tuple(data["body"]["records"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise StorageError(f"{path} lacks {error} of a stored batch: move it away") from error

    def _index(self, batch: StoredBatch) -> None:
        self._batches[batch.id] = batch
        self._keys[batch.idempotency_key] = KeyUse(batch.body_sha256, batch_target(*batch.id))
        self._last_ns = max(self._last_ns, batch.stored_at_ns)

    # -- writing ---------------------------------------------------------------------------

    def batch_path(self, round_id: str, export_id: str, batch: int) -> Path:
        return self._export_dir(round_id, export_id) / f"batch-{batch:05d}.json"

    def manifest_path(self, round_id: str, export_id: str) -> Path:
        return self._export_dir(round_id, export_id) / MANIFEST_NAME

    def _export_dir(self, round_id: str, export_id: str) -> Path:
        return self.directory / path_component(round_id) / path_component(export_id)

    def put_batch(
        self, key: str, body_sha256: str, body: BatchBody, raw: Mapping[str, Any]
    ) -> Decision:
        """Store the batch unless the rules of ``decide_batch`` say otherwise."""
        batch_id = (body.round_id, body.export_id, body.batch)
        decision = decide_batch(self._keys, self._batches, key, body_sha256, batch_id)
        if decision.outcome is Outcome.DUPLICATE:
            self._keys.setdefault(key, KeyUse(body_sha256, batch_target(*batch_id)))
            self._duplicates[body.round_id] += 1
        if decision.outcome is not Outcome.STORED:
            return decision
        stored_at_ns = max(time.time_ns(), self._last_ns + 1)
        batch = StoredBatch(
            round_id=body.round_id,
            export_id=body.export_id,
            kind=body.kind,
            batch=body.batch,
            idempotency_key=key,
            body_sha256=body_sha256,
            stored_at_ns=stored_at_ns,
            records=tuple(raw["records"]),
        )
        write_atomically(
            self.batch_path(*batch_id),
            {
                "idempotency_key": key,
                "body_sha256": body_sha256,
                "stored_at": datetime.fromtimestamp(stored_at_ns / 1e9, UTC).isoformat(),
                "stored_at_ns": stored_at_ns,
                "round_id": batch.round_id,
                "export_id": batch.export_id,
                "kind": batch.kind,
                "batch": batch.batch,
                "accepted": batch.accepted,
                "body": raw,
            },
        )
        self._index(batch)
        return Decision(Outcome.STORED, batch)

    def put_manifest(
        self, key: str, body_sha256: str, manifest: ManifestBody, raw: Mapping[str, Any]
    ) -> Decision:
        """Keep the export's latest manifest; a key reused for another body is refused."""
        target = manifest_target(manifest.round_id, manifest.export_id)
        used = self._keys.get(key)
        if used is not None:
            if used.body_sha256 == body_sha256 and used.target == target:
                return Decision(Outcome.DUPLICATE)
            return Decision(
                Outcome.KEY_REUSED,
                reason=(
                    f"Idempotency-Key {key!r} was already used for another request "
                    f"({'/'.join(used.target)}): use a new key for a different body"
                ),
            )
        write_atomically(
            self.manifest_path(manifest.round_id, manifest.export_id),
            {
                "idempotency_key": key,
                "body_sha256": body_sha256,
                "received_at": datetime.now(UTC).isoformat(),
                "body": raw,
            },
        )
        self._keys[key] = KeyUse(body_sha256, target)
        return Decision(Outcome.STORED)

    # -- reading ---------------------------------------------------------------------------

    @property
    def batch_count(self) -> int:
        return len(self._batches)

    def batches_of(self, round_id: str, export_id: str | None = None) -> list[StoredBatch]:
        """In the order stored."""
        return [
            batch
            for batch in self._batches.values()
            if batch.round_id == round_id and export_id in (None, batch.export_id)
        ]

    def manifest_report(self, manifest: ManifestBody) -> dict[str, Any]:
        """What was received of the manifest's export, and whether it is all there."""
        batches = self.batches_of(manifest.round_id, manifest.export_id)
        by_status = Counter({status: 0 for status in STATUSES})
        by_status.update(str(record["status"]) for batch in batches for record in batch.records)
        received = sum(batch.accepted for batch in batches)
        complete = (
            {batch.batch for batch in batches} == set(range(1, manifest.batches + 1))
            and received == manifest.records
            and all(by_status[s] == manifest.counts.get(s, 0) for s in STATUSES)
        )
        return {
            "export_id": manifest.export_id,
            "batches_received": len(batches),
            "records_received": received,
            "records_by_status": dict(by_status),
            "complete": complete,
        }

    def round_view(self, round_id: str) -> dict[str, Any]:
        """The latest record per center of every export of the round: a center keeps the
        position of its first record and holds the one stored last (a delta replaces it)."""
        batches = self.batches_of(round_id)
        latest: dict[str, Mapping[str, Any]] = {}
        for batch in batches:
            for record in batch.records:
                latest[str(record["center_id"])] = record
        return {
            "round_id": round_id,
            "records": list(latest.values()),
            "batches": len(batches),
            "duplicates_refused": self._duplicates[round_id],
        }
