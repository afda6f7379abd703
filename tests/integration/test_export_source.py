"""Where each report's satisfaction figures come from, through the export on real
PostgreSQL: SubmissionReceived events of schema versions 1 and 2 (the center's own survey)
and 3 (a citizen survey, or the center's own) kept by the export's consumer, the round's
records built, and the column read back from records.jsonl, records.csv and records.xlsx."""

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from services.export import handlers
from shared.events import Envelope, SubmissionReceived
from tests.integration.test_export_evidence import build, prepared
from tests.support.isolation import Isolated
from tests.support.samples import as_version_1, as_version_2, citizen_survey, received_event

CENTERS = ["GECC-0001", "GECC-0002", "GECC-0003", "GECC-0004", "GECC-0005"]


def parsed(raw: bytes) -> Envelope[SubmissionReceived]:
    return Envelope[SubmissionReceived].model_validate_json(raw)


async def test_records_carry_the_satisfaction_source_and_its_responses(
    isolated: Isolated, tmp_path: Path
) -> None:
    citizen = received_event("GECC-0003", source=citizen_survey(412))
    events = [
        parsed(as_version_1(received_event("GECC-0001", source=citizen_survey()))),
        parsed(as_version_2(received_event("GECC-0002", source=citizen_survey()))),
        citizen,
        received_event("GECC-0004"),
    ]
    assert [e.schema_version for e in events] == [1, 2, 3, 3]
    async with isolated.service_pool("export") as pool:
        export = await prepared(pool, CENTERS, events)
        # The same version again (a redelivery under another event id) changes nothing.
        async with pool.acquire() as conn:
            await handlers.keep_submissions(conn, [citizen])
        built = await build(export, pool, tmp_path / "exports")
    directory = Path(str(built.directory))
    expected = {
        "GECC-0001": ("center_survey", None),
        "GECC-0002": ("center_survey", None),
        "GECC-0003": ("citizen_survey", 412),
        "GECC-0004": ("center_survey", None),
        "GECC-0005": (None, None),  # sent nothing
    }
    lines = [json.loads(line) for line in (directory / "records.jsonl").open(encoding="utf-8")]
    assert {r["center_id"]: (r["satisfaction_source"], r["survey_responses"]) for r in lines} == (
        expected
    )
    table = csv.DictReader(io.StringIO((directory / "records.csv").read_text("utf-8-sig")))
    assert {r["center_id"]: (r["satisfaction_source"], r["survey_responses"]) for r in table} == {
        center: (kind or "", "" if responses is None else str(responses))
        for center, (kind, responses) in expected.items()
    }
    sheet = load_workbook(directory / "records.xlsx").worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    cells = [dict(zip(header, row, strict=True)) for row in rows]
    assert {r["center_id"]: (r["satisfaction_source"], r["survey_responses"]) for r in cells} == (
        expected
    )
