"""Evidence files received in parts, assembled and verified against their SHA-256.

Layout under the receiver's directory::

    evidence/<round>/<sha256>/part-00001     a part as received (its SHA-256 checked)
    evidence/<round>/<sha256>/file           the assembled file, its SHA-256 verified
    evidence/<round>/manifest-<export>.json  the package's latest manifest of that export

Every part but the last has ``PART_SIZE`` bytes. Each part is written beside its name and
renamed into place, so a part is there whole or not at all, and a restarted receiver (or a
sender that lost its connection) finds exactly the parts it holds. A file whose assembled
bytes do not have its SHA-256 is refused and its parts dropped: the sender sends it again.
"""

import hashlib
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gecc.pmo_receiver.storage import path_component, write_atomically

PART_SIZE = 8 * 1024 * 1024
_READ = 1024 * 1024


@dataclass(frozen=True)
class Assembled:
    verified: bool
    size: int
    sha256: str


class EvidenceStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "evidence"
        for leftover in self.directory.glob("*/*/.*.tmp"):
            leftover.unlink(missing_ok=True)  # a part or file cut off by a crash or restart

    def file_dir(self, round_id: str, sha256: str) -> Path:
        return self.directory / path_component(round_id) / sha256

    def status(self, round_id: str, sha256: str) -> dict[str, Any]:
        """The parts held (numbers, bytes) and whether the file is assembled and verified."""
        directory = self.file_dir(round_id, sha256)
        verified = directory / "file"
        if verified.exists():
            size = verified.stat().st_size
            return {
                "sha256": sha256,
                "part_size": PART_SIZE,
                "parts": [],
                "received_bytes": size,
                "complete": True,
                "size": size,
            }
        parts = self._parts(directory)
        return {
            "sha256": sha256,
            "part_size": PART_SIZE,
            "parts": sorted(parts),
            "received_bytes": sum(p.stat().st_size for p in parts.values()),
            "complete": False,
            "size": None,
        }

    def part_staging(self, round_id: str, sha256: str, number: int) -> Path:
        """A fresh temporary path for a part being received."""
        directory = self.file_dir(round_id, sha256)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f".part-{number:05d}.{uuid.uuid4().hex[:8]}.tmp"

    def keep_part(self, staged: Path, round_id: str, sha256: str, number: int) -> bool:
        """Move a received part into place; True when it was there already (a repeat)."""
        target = self.file_dir(round_id, sha256) / f"part-{number:05d}"
        repeated = target.exists()
        os.replace(staged, target)
        return repeated

    def assemble(self, round_id: str, sha256: str, size: int) -> Assembled:
        """Join the parts into ``file`` if their bytes have ``sha256``; else drop them all.
        Raises ``MissingParts`` when a part is not there (nothing changed then)."""
        directory = self.file_dir(round_id, sha256)
        verified = directory / "file"
        if verified.exists():
            return Assembled(True, verified.stat().st_size, sha256)
        expected = max(1, -(-size // PART_SIZE))
        parts = self._parts(directory)
        missing = [n for n in range(1, expected + 1) if n not in parts]
        if missing:
            raise MissingParts(missing)
        digest = hashlib.sha256()
        staged = directory / f".file.{uuid.uuid4().hex[:8]}.tmp"
        written = 0
        try:
            with staged.open("wb") as out:
                for number in range(1, expected + 1):
                    with parts[number].open("rb") as stream:
                        for chunk in iter(lambda: stream.read(_READ), b""):
                            digest.update(chunk)
                            out.write(chunk)
                            written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if actual != sha256 or written != size:
                for part in parts.values():
                    part.unlink(missing_ok=True)
                return Assembled(False, written, actual)
            os.replace(staged, verified)
        finally:
            staged.unlink(missing_ok=True)
        for part in parts.values():
            part.unlink(missing_ok=True)
        return Assembled(True, written, actual)

    def put_manifest(self, round_id: str, export_id: str, raw: Mapping[str, Any]) -> None:
        path = (
            self.directory / path_component(round_id) / f"manifest-{path_component(export_id)}.json"
        )
        write_atomically(path, raw)

    def manifest_report(self, round_id: str, export_id: str, files: list[Any]) -> dict[str, Any]:
        """Of the manifest's files, those held verified with the declared size."""
        verified, size_verified, missing = 0, 0, []
        for described in files:
            sha = str(described.get("sha256", ""))
            path = self.file_dir(round_id, sha) / "file"
            if len(sha) == 64 and path.exists() and path.stat().st_size == described.get("size"):
                verified += 1
                size_verified += path.stat().st_size
            else:
                missing.append(sha)
        return {
            "export_id": export_id,
            "files": len(files),
            "files_verified": verified,
            "bytes_verified": size_verified,
            "missing": missing,
            "complete": not missing,
        }

    @staticmethod
    def _parts(directory: Path) -> dict[int, Path]:
        if not directory.is_dir():
            return {}
        return {int(p.name[5:]): p for p in directory.glob("part-[0-9][0-9][0-9][0-9][0-9]")}


class MissingParts(Exception):
    def __init__(self, missing: list[int]) -> None:
        super().__init__(f"parts {missing[:20]} not received")
        self.missing = missing
