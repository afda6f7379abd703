"""The receiver's evidence files without a server: parts assembled and verified, a mismatch
dropping the parts, the signature of a streamed part, breaking a transfer off."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gecc.pmo_receiver.contract import streamed_signature_problem
from gecc.pmo_receiver.control import Injection
from gecc.pmo_receiver.evidence import PART_SIZE, EvidenceStore, MissingParts
from shared.signing import (
    CONTENT_SHA256_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    streamed_signed_bytes,
)

ROUND = "FY2570-H1"
NOW = datetime(2027, 5, 1, tzinfo=UTC)


def put(store: EvidenceStore, sha: str, number: int, content: bytes) -> bool:
    staged = store.part_staging(ROUND, sha, number)
    staged.write_bytes(content)
    return store.keep_part(staged, ROUND, sha, number)


def test_parts_are_assembled_into_a_verified_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    content = b"x" * PART_SIZE + b"tail"
    sha = hashlib.sha256(content).hexdigest()
    assert store.status(ROUND, sha)["parts"] == []
    assert put(store, sha, 2, b"tail") is False
    with pytest.raises(MissingParts) as missing:
        store.assemble(ROUND, sha, len(content))
    assert missing.value.missing == [1]
    assert put(store, sha, 1, b"x" * PART_SIZE) is False
    assert put(store, sha, 1, b"x" * PART_SIZE) is True  # a repeat replaces it
    held = store.status(ROUND, sha)
    assert (held["parts"], held["received_bytes"]) == ([1, 2], len(content))
    assembled = store.assemble(ROUND, sha, len(content))
    assert (assembled.verified, assembled.size) == (True, len(content))
    kept = store.file_dir(ROUND, sha) / "file"
    assert kept.read_bytes() == content
    assert store.status(ROUND, sha)["complete"] is True
    assert sorted(p.name for p in store.file_dir(ROUND, sha).iterdir()) == ["file"]


def test_a_file_whose_bytes_have_another_hash_is_refused_and_its_parts_dropped(
    tmp_path: Path,
) -> None:
    store = EvidenceStore(tmp_path)
    sha = hashlib.sha256(b"meant").hexdigest()
    put(store, sha, 1, b"other")
    assembled = store.assemble(ROUND, sha, 5)
    assert (assembled.verified, assembled.sha256) == (False, hashlib.sha256(b"other").hexdigest())
    assert store.status(ROUND, sha)["parts"] == []
    assert not (store.file_dir(ROUND, sha) / "file").exists()


def test_the_manifest_report_counts_the_files_held_verified(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    sha = hashlib.sha256(b"held").hexdigest()
    put(store, sha, 1, b"held")
    store.assemble(ROUND, sha, 4)
    report = store.manifest_report(
        ROUND, "e1", [{"sha256": sha, "size": 4}, {"sha256": "c" * 64, "size": 9}]
    )
    assert report == {
        "export_id": "e1",
        "files": 2,
        "files_verified": 1,
        "bytes_verified": 4,
        "missing": ["c" * 64],
        "complete": False,
    }


def part_headers(path: str, digest: str, secret: str = "s") -> dict[str, str]:
    stamp = int(NOW.timestamp())
    signed = streamed_signed_bytes("PUT", path, digest)
    return {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, stamp, signed),
        CONTENT_SHA256_HEADER: digest,
    }


def test_a_part_is_signed_over_its_path_and_hash() -> None:
    path, digest = f"/gecc/v1/rounds/{ROUND}/evidence/{'a' * 64}/parts/1", "d" * 64
    headers = part_headers(path, digest)
    assert streamed_signature_problem("s", headers, "PUT", path, NOW) is None
    other_part = path[:-1] + "2"
    assert "does not match" in str(streamed_signature_problem("s", headers, "PUT", other_part, NOW))
    lying = headers | {CONTENT_SHA256_HEADER: "e" * 64}
    assert "does not match" in str(streamed_signature_problem("s", lying, "PUT", path, NOW))
    bad = headers | {CONTENT_SHA256_HEADER: "not-hex"}
    assert CONTENT_SHA256_HEADER in str(streamed_signature_problem("s", bad, "PUT", path, NOW))


def test_a_transfer_can_be_broken_off_after_some_parts() -> None:
    injection = Injection()
    assert all(injection.take_part() for _ in range(5))
    injection.update({"parts_before_failure": 1})
    assert [injection.take_part() for _ in range(3)] == [True, False, False]
    assert injection.counters.parts_failed_injected == 2
    assert injection.view()["parts_before_failure"] == 0
    injection.update({"parts_before_failure": None})
    assert injection.take_part()
    with pytest.raises(ValueError, match="parts_before_failure"):
        injection.update({"parts_before_failure": -1})
