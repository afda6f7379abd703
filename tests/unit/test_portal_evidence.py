"""The portal's pure rules for evidence files: sizes in the reader's units, intake's
refusals named, the ids a form and a draft hold (each a UUID, each once, at most 20)."""

from uuid import uuid4

from services.portal.domain.evidence import attached, refusal_of, size_parts
from services.portal.domain.report_form import ReportForm, check, file_ids
from tests.support.samples import standard, submission_body


def test_sizes_are_shown_in_bytes_kilobytes_or_megabytes() -> None:
    assert size_parts(0) == ("0", "evidence.unit.bytes")
    assert size_parts(1023) == ("1,023", "evidence.unit.bytes")
    assert size_parts(1024) == ("1", "evidence.unit.kib")
    assert size_parts(300 * 1024) == ("300", "evidence.unit.kib")
    assert size_parts(10 * 1024 * 1024) == ("10.0", "evidence.unit.mib")
    assert size_parts(1536 * 1024) == ("1.5", "evidence.unit.mib")


def test_intakes_refusals_are_named_by_code_then_by_status() -> None:
    assert refusal_of(413, "quota_exceeded") == "quota_exceeded"
    assert refusal_of(413, "") == "file_too_large"
    assert refusal_of(415, "whatever") == "unsupported_type"
    assert refusal_of(409, "round_not_open") == "refused"
    assert refusal_of(422, "invalid") == "refused"


def test_file_ids_keep_uuids_once_in_order_and_at_most_twenty() -> None:
    a, b = str(uuid4()), str(uuid4())
    assert file_ids(f"{a},{b},{a}, nonsense,") == (a, b)
    assert file_ids([a.upper(), b]) == (a, b)
    assert file_ids("") == () and file_ids(None) == ()
    many = [str(uuid4()) for _ in range(25)]
    assert file_ids(",".join(many)) == tuple(many[:20])


def test_the_files_go_from_the_form_to_the_draft_to_the_submission() -> None:
    s = standard()
    photo, order = str(uuid4()), str(uuid4())
    body = submission_body()
    posted = {"respondents": str(body["satisfaction"]["respondents"])}
    for question in body["satisfaction"]["questions"]:
        for rating, count in enumerate(question["counts"], start=1):
            posted[f"count-{question['code']}-{rating}"] = str(count)
    for item in s.items:
        posted[f"met-{item.code}"] = "yes"
    posted["files-P01"] = f"{photo},{order}"
    form = ReportForm.from_post(s, posted)
    assert form.items["P01"].files == (photo, order)
    again = ReportForm.from_fields(s, form.to_fields())
    assert again == form
    sent, errors = check(again, s, "FY2570-H1")
    assert errors == [] and sent is not None
    listed = {i.code: [str(f) for f in i.files] for i in sent.checklist.items}
    assert listed["P01"] == [photo, order] and listed["P02"] == []
    amended = ReportForm.from_report(s, sent.model_dump(mode="json"))
    assert amended.items["P01"].files == (photo, order)
    removed = amended.with_item_files("P01", (order,))
    assert removed.items["P01"].files == (order,) and amended.items["P01"].files == (photo, order)


def test_attached_lists_the_files_intake_still_has_in_the_forms_order() -> None:
    a, b, gone = str(uuid4()), str(uuid4()), str(uuid4())
    files = {a: {"file_id": a}, b: {"file_id": b}}
    assert attached(files, (b, gone, a)) == [{"file_id": b}, {"file_id": a}]
