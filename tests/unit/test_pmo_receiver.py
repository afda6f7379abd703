"""The reference PMO receiver's decisions without a server: signatures, idempotency, storage,
counts, failure injection."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gecc.pmo_receiver.contract import (
    BatchBody,
    ManifestBody,
    Refusal,
    idempotency_key,
    parse_batch,
    parse_manifest,
    signature_problem,
)
from gecc.pmo_receiver.control import Injection
from gecc.pmo_receiver.storage import (
    BatchStore,
    KeyUse,
    Outcome,
    StorageError,
    batch_target,
    body_hash,
    decide_batch,
    path_component,
)
from shared.signing import sign

SECRET = "pmo-test-secret"
NOW = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
ROUND = "FY2570-H1"


def record(center: str, status: str = "on_time", **extra: Any) -> dict[str, Any]:
    return {"center_id": center, "status": status, **extra}


def batch_body(
    n: int = 1,
    records: list[dict[str, Any]] | None = None,
    export_id: str = "exp-1",
    kind: str = "full",
    round_id: str = ROUND,
) -> bytes:
    if records is None:
        records = [record("C1"), record("C2", "late")]
    payload = {
        "export_id": export_id,
        "round_id": round_id,
        "kind": kind,
        "batch": n,
        "records": records,
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def headers(body: bytes, timestamp: int = TS, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-GECC-Timestamp": str(timestamp),
        "X-GECC-Signature": sign(secret, timestamp, body),
    }


def put(store: BatchStore, key: str, body: bytes) -> Outcome:
    parsed, raw = parse_batch(body, ROUND, json.loads(body)["batch"])
    return store.put_batch(key, body_hash(body), parsed, raw).outcome


# -- signatures -------------------------------------------------------------------------------


def test_a_fresh_genuine_signature_is_accepted() -> None:
    body = batch_body()
    assert signature_problem(SECRET, headers(body), body, NOW) is None
    # Up to five minutes either way.
    for skew in (-300, 300):
        assert signature_problem(SECRET, headers(body, TS + skew), body, NOW) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-GECC-Timestamp": None}, "missing X-GECC-Timestamp"),
        ({"X-GECC-Signature": None}, "missing X-GECC-Signature"),
        ({"X-GECC-Timestamp": "yesterday"}, "not whole Unix seconds"),
        ({"X-GECC-Signature": "sha256=" + "0" * 64}, "does not match"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_with_a_reason(
    change: dict[str, str | None], reason: str
) -> None:
    body = batch_body()
    sent = {**headers(body), **change}
    present = {name: value for name, value in sent.items() if value is not None}
    problem = signature_problem(SECRET, present, body, NOW)
    assert problem is not None
    assert reason in problem


def test_another_secret_or_a_changed_body_does_not_verify() -> None:
    body = batch_body()
    assert signature_problem(SECRET, headers(body, secret="other"), body, NOW) is not None
    assert signature_problem(SECRET, headers(body), body.replace(b"C1", b"C9"), NOW) is not None


@pytest.mark.parametrize(("skew", "word"), [(-301, "old"), (301, "in the future")])
def test_a_timestamp_more_than_five_minutes_off_is_refused(skew: int, word: str) -> None:
    body = batch_body()
    problem = signature_problem(SECRET, headers(body, TS + skew), body, NOW)
    assert problem is not None
    assert f"301 s {word}" in problem


def test_the_idempotency_key_is_required() -> None:
    assert idempotency_key({"Idempotency-Key": " k-1 "}) == "k-1"
    for given in ({}, {"Idempotency-Key": "  "}, {"Idempotency-Key": "k" * 201}):
        with pytest.raises(Refusal) as refused:
            idempotency_key(given)
        assert refused.value.status == 400


# -- bodies -----------------------------------------------------------------------------------


def test_a_batch_body_keeps_every_field_of_its_records() -> None:
    body = batch_body(records=[record("C1", score=87.5, name_th="ศูนย์ ก")])
    parsed, raw = parse_batch(body, ROUND, 1)
    assert isinstance(parsed, BatchBody)
    assert raw["records"] == [record("C1", score=87.5, name_th="ศูนย์ ก")]


@pytest.mark.parametrize(
    ("body", "path_round", "path_batch", "status", "error"),
    [
        (batch_body(2), ROUND, 1, 422, "path_mismatch"),
        (batch_body(1), "FY2570-H2", 1, 422, "path_mismatch"),
        (batch_body(records=[record(f"C{i}") for i in range(501)]), ROUND, 1, 413, None),
        (batch_body(records=[record("C1", "excellent")]), ROUND, 1, 422, "invalid_body"),
        (batch_body(records=[{"status": "late"}]), ROUND, 1, 422, "invalid_body"),
        (batch_body(kind="partial"), ROUND, 1, 422, "invalid_body"),
        (batch_body(0), ROUND, 0, 422, "invalid_body"),
        (b'{"batch": "1"', ROUND, 1, 422, "invalid_body"),
        (b"[1, 2]", ROUND, 1, 422, "invalid_body"),
    ],
)
def test_a_malformed_or_mismatched_batch_is_refused(
    body: bytes, path_round: str, path_batch: int, status: int, error: str | None
) -> None:
    with pytest.raises(Refusal) as refused:
        parse_batch(body, path_round, path_batch)
    assert refused.value.status == status
    if error is not None:
        assert refused.value.error == error


def test_exactly_500_records_fit_in_a_batch() -> None:
    parsed, _ = parse_batch(batch_body(records=[record(f"C{i}") for i in range(500)]), ROUND, 1)
    assert len(parsed.records) == 500


def test_a_manifest_must_name_the_round_of_its_path() -> None:
    body = manifest_body(batches=1, records=2)
    assert parse_manifest(body, ROUND).batches == 1
    with pytest.raises(Refusal) as refused:
        parse_manifest(body, "FY2570-H2")
    assert refused.value.error == "path_mismatch"


# -- idempotency decisions --------------------------------------------------------------------


def test_decisions_by_key_and_by_batch() -> None:
    keys = {"k1": KeyUse("h1", batch_target(ROUND, "e", 1))}
    assert decide_batch(keys, {}, "k1", "h1", (ROUND, "e", 1)).outcome is Outcome.DUPLICATE
    assert decide_batch(keys, {}, "k1", "h2", (ROUND, "e", 1)).outcome is Outcome.KEY_REUSED
    # The same body sent for another batch under a used key is still another request.
    assert decide_batch(keys, {}, "k1", "h1", (ROUND, "e", 2)).outcome is Outcome.KEY_REUSED
    assert decide_batch(keys, {}, "k2", "h1", (ROUND, "e", 1)).outcome is Outcome.STORED


def test_the_same_key_and_body_is_stored_once(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    body = batch_body()
    assert put(store, "k1", body) is Outcome.STORED
    assert put(store, "k1", body) is Outcome.DUPLICATE
    assert list(tmp_path.rglob("batch-*.json")) == [tmp_path / ROUND / "exp-1" / "batch-00001.json"]
    view = store.round_view(ROUND)
    assert (view["batches"], view["duplicates_refused"], len(view["records"])) == (1, 1, 2)


def test_the_same_key_with_another_body_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    assert put(store, "k1", batch_body()) is Outcome.STORED
    assert put(store, "k1", batch_body(records=[record("C1", "late")])) is Outcome.KEY_REUSED
    assert store.round_view(ROUND)["records"] == [record("C1"), record("C2", "late")]


def test_a_new_key_for_a_stored_batch_is_a_duplicate_or_a_conflict(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    body = batch_body()
    assert put(store, "k1", body) is Outcome.STORED
    assert put(store, "k2", body) is Outcome.DUPLICATE
    assert put(store, "k3", batch_body(records=[record("C1", "late")])) is Outcome.BATCH_CONFLICT
    assert store.batch_count == 1


def test_a_stored_batch_file_says_what_was_received(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    body = batch_body(records=[record("C1", name_th="ศูนย์ ก")])
    put(store, "k-1", body)
    stored = json.loads((tmp_path / ROUND / "exp-1" / "batch-00001.json").read_text("utf-8"))
    assert stored["idempotency_key"] == "k-1"
    assert stored["body_sha256"] == body_hash(body)
    assert (stored["round_id"], stored["export_id"], stored["kind"]) == (ROUND, "exp-1", "full")
    assert (stored["batch"], stored["accepted"]) == (1, 1)
    assert stored["body"] == json.loads(body)
    assert [p.name for p in (tmp_path / ROUND / "exp-1").iterdir()] == ["batch-00001.json"]


def test_a_reloaded_store_still_recognises_keys_and_batches(tmp_path: Path) -> None:
    first = BatchStore.open(tmp_path)
    put(first, "k1", batch_body(1))
    put(first, "k2", batch_body(2, [record("C3", "missing")]))
    (tmp_path / ROUND / "exp-1" / ".batch-00003.json.1.abcd.tmp").write_text("{")  # torn write
    again = BatchStore.open(tmp_path)
    assert again.batch_count == 2
    assert put(again, "k1", batch_body(1)) is Outcome.DUPLICATE
    assert put(again, "k2", batch_body(1)) is Outcome.KEY_REUSED
    assert put(again, "k9", batch_body(2, [record("C3", "late")])) is Outcome.BATCH_CONFLICT
    assert again.round_view(ROUND)["records"] == first.round_view(ROUND)["records"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_an_unreadable_batch_file_stops_the_load(tmp_path: Path) -> None:
    broken = tmp_path / ROUND / "exp-1" / "batch-00001.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    with pytest.raises(StorageError, match=r"batch-00001\.json"):
        BatchStore.open(tmp_path)


def test_ids_cannot_leave_the_directory(tmp_path: Path) -> None:
    assert path_component("FY2570-H1") == "FY2570-H1"
    assert path_component("../x") == "%2E%2E%2Fx"
    assert path_component("ก") == "%E0%B8%81"
    store = BatchStore.open(tmp_path / "pmo")
    body = batch_body(export_id="../../escape")
    assert put(store, "k", body) is Outcome.STORED
    [written] = (tmp_path / "pmo").rglob("batch-*.json")
    assert written.parent.name == "%2E%2E%2F%2E%2E%2Fescape"
    assert BatchStore.open(tmp_path / "pmo").batches_of(ROUND)[0].export_id == "../../escape"


# -- the round's view and the manifest --------------------------------------------------------


def test_a_delta_replaces_a_centers_record_in_the_round_view(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    put(store, "f1", batch_body(1, [record("C1"), record("C2", "missing")], "full-1"))
    put(store, "f2", batch_body(2, [record("C3", "late")], "full-1"))
    delta = batch_body(1, [record("C2", "late", version=2)], "delta-1", kind="delta")
    put(store, "d1", delta)
    view = BatchStore.open(tmp_path).round_view(ROUND)
    assert view["records"] == [record("C1"), record("C2", "late", version=2), record("C3", "late")]
    assert view["batches"] == 3
    assert store.round_view("FY2570-H2") == {
        "round_id": "FY2570-H2",
        "records": [],
        "batches": 0,
        "duplicates_refused": 0,
    }


def manifest_body(
    batches: int, records: int, counts: dict[str, int] | None = None, export_id: str = "exp-1"
) -> bytes:
    payload = {
        "export_id": export_id,
        "round_id": ROUND,
        "kind": "full",
        "batches": batches,
        "records": records,
        "counts": counts or {"on_time": 1, "late": 1, "missing": 0},
        "files": {"jsonl": {"sha256": "ab" * 32}},
    }
    return json.dumps(payload).encode()


def report(store: BatchStore, body: bytes) -> dict[str, Any]:
    manifest = parse_manifest(body, ROUND)
    assert isinstance(manifest, ManifestBody)
    return store.manifest_report(manifest)


def test_the_manifest_is_answered_with_what_was_stored(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    put(store, "k1", batch_body(1, [record("C1"), record("C2", "late")]))
    put(store, "k2", batch_body(2, [record("C3", "missing")]))
    put(store, "other", batch_body(1, [record("C9")], export_id="exp-2"))
    counts = {"on_time": 1, "late": 1, "missing": 1}
    assert report(store, manifest_body(2, 3, counts)) == {
        "export_id": "exp-1",
        "batches_received": 2,
        "records_received": 3,
        "records_by_status": counts,
        "complete": True,
    }
    assert report(store, manifest_body(3, 4, {**counts, "on_time": 2}))["complete"] is False
    assert (
        report(store, manifest_body(2, 3, {**counts, "late": 0, "on_time": 2}))["complete"] is False
    )
    assert report(store, manifest_body(1, 3, counts))["complete"] is False  # batch 2 unexpected


def test_a_manifest_key_is_remembered_across_a_restart(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    body = manifest_body(0, 0, {"on_time": 0, "late": 0, "missing": 0})
    manifest = parse_manifest(body, ROUND)
    raw = json.loads(body)
    assert store.put_manifest("m1", body_hash(body), manifest, raw).outcome is Outcome.STORED
    assert store.put_manifest("m1", body_hash(body), manifest, raw).outcome is Outcome.DUPLICATE
    again = BatchStore.open(tmp_path)
    other = manifest_body(1, 0, {"on_time": 0, "late": 0, "missing": 0})
    outcome = again.put_manifest("m1", body_hash(other), parse_manifest(other, ROUND), raw)
    assert outcome.outcome is Outcome.KEY_REUSED
    assert (tmp_path / ROUND / "exp-1" / "manifest.json").exists()


# -- failure injection ------------------------------------------------------------------------


def test_fail_share_one_fails_every_post_and_zero_none() -> None:
    always = Injection(fail_share=1.0, seed=1)
    assert all(always.draw().fail for _ in range(50))
    never = Injection(fail_share=0.0, seed=1)
    assert not any(never.draw().fail for _ in range(50))
    assert (always.counters.posts, always.counters.failed_injected) == (50, 50)


def test_a_seed_makes_the_injection_repeatable() -> None:
    def run(seed: int) -> list[tuple[bool, float]]:
        injection = Injection(fail_share=0.3, slow_share=0.5, slow_seconds=2.0, seed=seed)
        return [(d.fail, d.slow_seconds) for d in (injection.draw() for _ in range(200))]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    fails = sum(fail for fail, _ in first)
    slows = sum(slow > 0 for _, slow in first)
    assert 35 < fails < 85 and 50 < slows < 100  # about 60 and 70 expected
    assert all(slow in (0.0, 2.0) and not (fail and slow) for fail, slow in first)


def test_control_updates_are_all_or_nothing() -> None:
    injection = Injection(seed=1)
    injection.update({"fail_share": 0.25, "slow_share": 1, "slow_seconds": 0.5})
    assert (injection.fail_share, injection.slow_share, injection.slow_seconds) == (0.25, 1, 0.5)
    for bad in (
        {"fail_share": 1.5},
        {"slow_share": -0.1},
        {"slow_seconds": "3"},
        {"fail_share": True},
        {"seed": 1.5},
        {"fail_share": 0.5, "oops": 1},
        {"fail_share": 0.5, "slow_share": 2},
    ):
        with pytest.raises(ValueError):
            injection.update(bad)
    assert (injection.fail_share, injection.slow_share, injection.slow_seconds) == (0.25, 1, 0.5)
    view = injection.view()
    assert set(view["counters"]) >= {
        "posts",
        "failed_injected",
        "slowed",
        "stored",
        "duplicates",
        "refused_signature",
    }
    with pytest.raises(ValueError):
        Injection(fail_share=2.0)
