"""An export's life without I/O: pending → delivering → reconciled | mismatch | failed."""

from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.export.domain.exports import Export, StepNotAllowed, acknowledged_counts

CREATED = datetime(2027, 5, 1, 17, tzinfo=UTC)
OURS = {"on_time": 3, "late": 1, "missing": 1, "total": 5}


def pending() -> Export:
    return Export(
        id=UUID(int=7),
        round_id="FY2570-H1",
        kind="full",
        trigger="round_closed",
        request_id=None,
        state="pending",
        records=0,
        batches=0,
        batches_acknowledged=0,
        attempts=0,
        last_error=None,
        counts={},
        acknowledged={},
        manifest_call=None,
        directory=None,
        created_at=CREATED,
        updated_at=CREATED,
    )


def delivering() -> Export:
    return pending().built(5, OURS, 3, b'{"batches":3}', "/exports/FY2570-H1/7")


def answer(batches: int = 3, records: int = 5, **by_status: int) -> dict[str, object]:
    status = {"on_time": 3, "late": 1, "missing": 1} | by_status
    return {"batches_received": batches, "records_received": records, "records_by_status": status}


def test_building_fixes_the_content_and_starts_the_delivery() -> None:
    built = delivering()
    assert (built.state, built.records, built.batches, built.counts) == ("delivering", 5, 3, OURS)
    assert built.manifest_call == b'{"batches":3}' and built.directory == "/exports/FY2570-H1/7"
    assert (built.attempts, built.batches_acknowledged) == (0, 0)


def test_an_export_is_built_once() -> None:
    with pytest.raises(StepNotAllowed, match="is delivering: cannot build"):
        delivering().built(5, OURS, 3, b"{}", "/elsewhere")


def test_each_acknowledged_batch_counts_up_to_the_number_of_batches() -> None:
    export = delivering()
    for _ in range(3):
        export = export.batch_acknowledged()
    assert export.batches_acknowledged == 3
    with pytest.raises(StepNotAllowed, match="all 3 batches acknowledged"):
        export.batch_acknowledged()


def test_nothing_is_delivered_before_the_export_is_built() -> None:
    with pytest.raises(StepNotAllowed, match="is pending: cannot acknowledge a batch"):
        pending().batch_acknowledged()
    with pytest.raises(StepNotAllowed, match="is pending: cannot reconcile"):
        pending().delivered(acknowledged_counts(answer()))


def test_a_temporary_failure_counts_an_attempt_and_keeps_delivering() -> None:
    export = delivering().attempt_failed("503 from the PMO system", final=False)
    assert (export.state, export.attempts, export.last_error) == (
        "delivering",
        1,
        "503 from the PMO system",
    )
    export = export.attempt_failed("timed out", final=False)
    assert (export.state, export.attempts, export.last_error) == ("delivering", 2, "timed out")


def test_a_refusal_fails_the_export_for_good() -> None:
    export = delivering().attempt_failed("400 bad batch", final=True)
    assert (export.state, export.attempts, export.last_error) == ("failed", 1, "400 bad batch")
    with pytest.raises(StepNotAllowed, match="is failed: cannot fail an attempt"):
        export.attempt_failed("again", final=False)


def test_the_same_counts_reconcile_and_clear_the_last_error() -> None:
    export = delivering().attempt_failed("timed out", final=False)
    done = export.delivered(acknowledged_counts(answer()))
    assert (done.state, done.attempts, done.last_error) == ("reconciled", 2, None)
    assert done.acknowledged == {"batches": 3, "records": 5, "on_time": 3, "late": 1, "missing": 1}


@pytest.mark.parametrize(
    "theirs",
    [answer(batches=2), answer(records=4), answer(late=0), answer(missing=2)],
    ids=["a batch short", "a record short", "a late record short", "a missing record more"],
)
def test_other_counts_are_a_mismatch(theirs: dict[str, object]) -> None:
    done = delivering().delivered(acknowledged_counts(theirs))
    assert done.state == "mismatch" and done.attempts == 1


def test_an_answer_without_counts_is_a_mismatch() -> None:
    counts = acknowledged_counts({})
    assert counts == {"batches": -1, "records": -1}
    assert delivering().delivered(counts).state == "mismatch"


def test_statuses_we_have_none_of_may_be_left_out_of_their_answer() -> None:
    built = pending().built(2, {"on_time": 2, "late": 0, "missing": 0, "total": 2}, 1, b"{}", "/d")
    theirs = {"batches_received": 1, "records_received": 2, "records_by_status": {"on_time": 2}}
    assert built.delivered(acknowledged_counts(theirs)).state == "reconciled"
