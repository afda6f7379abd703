"""The export benchmark's own pieces: its data, its recording client, its printed ratios."""

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bench import export_data, fixtures
from bench.export import Options, RecordingPmo, Result, Span, parse_args
from bench.export_report import render
from bench.export_writers import FORMATS, write_alone
from gecc.registry_generator import CENTERS_2022, generate_registry
from services.export.domain.dataset import RegisteredCenter, build_records

REASON_CODES = {
    "mandatory_item_not_met",
    "satisfaction_below_threshold",
    "checklist_below_threshold",
    "sample_too_small",
}


@pytest.fixture(scope="module")
def data() -> export_data.Dataset:
    return export_data.build(CENTERS_2022, fixtures.standard())


def test_the_registry_is_the_generated_one_up_to_1343(data: export_data.Dataset) -> None:
    assert [row[0] for row in data.centers] == [c.id for c in generate_registry()]


def test_larger_registries_repeat_it_with_new_ids() -> None:
    rows = export_data.centers(2 * CENTERS_2022 + 5)
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids) == 2 * CENTERS_2022 + 5
    assert ids[0] == "GECC-000001" and ids[-1] == f"GECC-{2 * CENTERS_2022 + 5:06d}"
    assert rows[CENTERS_2022][1:] == rows[0][1:]  # the same center again, under a new id


def test_the_data_is_deterministic(data: export_data.Dataset) -> None:
    assert export_data.build(CENTERS_2022, fixtures.standard()) == data


def test_about_ninety_percent_report_some_late_some_twice(data: export_data.Dataset) -> None:
    summary = export_data.summary(data)
    assert 0.86 < summary["reporting"] / summary["centers"] < 0.94
    assert 0.04 < summary["late"] / summary["reporting"] < 0.12
    assert 0.08 < summary["amended"] / summary["reporting"] < 0.16
    assert summary["on_time"] + summary["late"] + summary["missing"] == CENTERS_2022
    assert summary["unscored"] == 0


def test_scores_look_like_the_scoring_service_s(data: export_data.Dataset) -> None:
    verdicts = {row[8] for row in data.versions}
    assert verdicts == {"maintained", "at_risk", "not_maintained"}
    for row in data.versions:
        assert (row[8] == "maintained") == (row[9] == [])
        for reason in row[9]:
            assert reason["code"] in REASON_CODES and reason["text_th"] and reason["text_en"]
        assert row[12] == f"{export_data.ROUND.id}/{row[2]}/v{row[1]}"


def test_unscored_versions_are_left_as_record_received_leaves_them() -> None:
    data = export_data.build(500, fixtures.standard(), unscored=1.0)
    latest = data.latest().values()
    assert all(row[6:12] == (None,) * 6 for row in latest)


def test_every_writer_writes(data: export_data.Dataset, tmp_path: Path) -> None:
    centers = [RegisteredCenter(*row) for row in data.centers[:20]]
    records = build_records(export_data.ROUND.id, centers, [])
    for name in FORMATS:
        write_alone(name, records, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"records.jsonl", "records.csv", "records.xlsx"}


async def test_the_recording_client_sends_each_call_and_keeps_its_body() -> None:
    seen: list[tuple[str, bytes]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.content))
        return httpx.Response(200, json={"stored": True})

    transport = httpx.MockTransport(receiver)
    async with httpx.AsyncClient(transport=transport) as client:
        pmo = RecordingPmo(client, "http://pmo.test", "secret")
        assert await pmo.send_batch("R1", 1, "e:1", b'{"batch":1}') == {"stored": True}
        await pmo.send_batch("R1", 2, "e:2", b'{"batch":2}')
        await pmo.send_manifest("R1", "e:manifest", b'{"batches":2}')
    assert pmo.batches == [(1, b'{"batch":1}'), (2, b'{"batch":2}')]
    assert pmo.manifest == b'{"batches":2}'
    assert seen == [
        ("/gecc/v1/rounds/R1/batches/1", b'{"batch":1}'),
        ("/gecc/v1/rounds/R1/batches/2", b'{"batch":2}'),
        ("/gecc/v1/rounds/R1/manifest", b'{"batches":2}'),
    ]


def test_sizes_and_defaults() -> None:
    options = parse_args(["--sizes", "1343,134_300", "--admin-url", "postgresql://x@h/db"])
    assert options.sizes == (1343, 134300) and options.database == "gecc_bench_export"
    with pytest.raises(SystemExit):
        parse_args(["--sizes", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--database", "gecc"])


def test_the_table_prints_ratios_against_the_baselines() -> None:
    options = Options((10,), "u", "gecc_bench_export", None, False, 500, True, True, 0.0, 0)
    result = Result(
        10,
        records=10,
        build=Span(3.0, {"bench": 0.9}),
        records_only=Span(1.0),
        delivery=Span(2.0),
        raw_delivery=Span(1.6),
        total=Span(5.0),
        build_parts=dict.fromkeys(("records", "files", "bodies", "fingerprints", "save"), 0.5),
        delivery_parts=dict.fromkeys(("read", "post", "ack", "manifest"), 0.25),
        records_only_parts={"records": 0.5, "jsonl": 0.5},
    )
    text = render(options, datetime(2026, 1, 1, tzinfo=UTC), [result], {"cpu": "test"})
    build_line = next(line for line in text.splitlines() if "handlers.build" in line)
    delivery_line = next(line for line in text.splitlines() if "handlers.deliver" in line)
    assert "3.00" in build_line.split()  # 3.0 s ÷ 1.0 s
    assert "1.25" in delivery_line.split()  # 2.0 s ÷ 1.6 s
    assert "cpu         test" in text
