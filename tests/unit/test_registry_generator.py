"""The generated GECC registry: its 2022 shape, uniqueness, determinism and scale."""

import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gecc.cli import app
from gecc.registry_data import registry_data
from gecc.registry_generator import generate_registry, generated_offices, office_paths
from services.intake.domain.centers import Center
from services.intake.domain.offices import parse_offices

PROVINCES = registry_data().provinces
KNOWN_PATHS = {office.path for office in registry_data().every_office()}

# SHA-256 of generate_registry(count, seed), a center a line with its fields tab-separated,
# recorded from services/intake/domain/registry.py at d82afcd: demos, benchmarks and
# operators' files rely on the same arguments giving the same registry.
PINNED = {
    (0, 2570): "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    (5, 2570): "d442d80b4f7487c5ade2b97b6a5602d5592873227621f2a305512d417739d330",
    (9, 1): "efe11bf7e3d8fe3d237bbbe4fbbcc3b50483bf8a0f4c3585760d84ec15ed47e2",
    (10, 2570): "166a22dc7e02b6d83ea74cb9879efe59db7ead81affa0d9db5c5dbb5ed216995",
    (88, 7): "bccb1d4739f05eca2b5795d534c081dac1835d46a2088f4127f52c84228fb285",
    (300, 42): "2ebf448e223e72b71b638267ff75bd23ef5389ad5d5d546d8fc5502faf78b8ab",
    (1343, 2570): "6f21c20e5fb0acde142b35a496ab5048c0cbac4d431605ab3da3b5354dd4fc48",
    (1343, 2571): "40c9af4a4889a0c171fee9a35825af296d44caeb8b144e11e04a6b5b8522f570",
    (5000, 2570): "01d943746615c15f52813ffc448723b6c75c7b1ffc35262041fdd1b69ff0d7cc",
}
# SHA-256 of the file `gecc centers generate --count 1343` wrote at d82afcd.
PINNED_FILE_1343 = "a1ae7227a621228066b960e1fb3c03d869e5efa36a2c4e463f1043fb55099261"


@pytest.fixture(scope="module")
def registry() -> list[Center]:
    return generate_registry()


def under(centers: list[Center], path: str) -> list[Center]:
    return [c for c in centers if (c.office_path + "/").startswith(path + "/")]


def assert_well_formed(centers: list[Center]) -> None:
    assert len({c.id for c in centers}) == len(centers)
    assert len({c.name_th for c in centers}) == len(centers)
    assert len({c.name_en for c in centers}) == len(centers)
    assert all(re.fullmatch(r"GECC-\d{4,}", c.id) for c in centers)
    assert {c.office_path for c in centers} <= KNOWN_PATHS


def test_the_2022_registry_has_1343_centers_88_of_them_under_the_bma(
    registry: list[Center],
) -> None:
    assert len(registry) == 1343
    assert len(under(registry, "PMO/BMA")) == 88
    assert all(c.province == "กรุงเทพมหานคร" for c in under(registry, "PMO/BMA"))


def test_every_one_of_the_77_provinces_has_centers(registry: list[Center]) -> None:
    assert {c.province for c in registry} == {p.name_th for p in PROVINCES}


def test_each_province_outside_bangkok_has_its_provincial_center(registry: list[Center]) -> None:
    provincial = Counter(c.office_path for c in under(registry, "PMO/PROVINCE"))
    assert provincial == {f"PMO/PROVINCE/{p.code}": 1 for p in PROVINCES if p.code != "TH-10"}


def test_the_bma_share_includes_all_50_district_offices(registry: list[Center]) -> None:
    district_offices = {c.name_th for c in under(registry, "PMO/BMA/DISTRICT")}
    (unit,) = (u for u in registry_data().bma_units if u.office_path == "PMO/BMA/DISTRICT")
    assert district_offices == {th for th, _ in unit.sites}
    assert len(district_offices) == 50


def test_ids_run_from_gecc_0001_and_names_are_unique(registry: list[Center]) -> None:
    assert_well_formed(registry)
    assert sorted(c.id for c in registry) == [f"GECC-{n:04d}" for n in range(1, 1344)]


def test_the_same_arguments_give_the_same_registry_another_seed_another(
    registry: list[Center],
) -> None:
    assert generate_registry(1343, 2570) == registry
    assert generate_registry(1343, 2571) != registry


@pytest.mark.parametrize(("count", "seed"), sorted(PINNED))
def test_the_generated_registry_is_the_one_pinned(count: int, seed: int) -> None:
    lines = "".join(
        "\t".join(
            (
                c.id,
                c.name_th,
                c.name_en,
                c.office_path,
                c.province,
                c.certified_until.isoformat() if c.certified_until else "",
                ";".join(c.contact_emails),
            )
        )
        + "\n"
        for c in generate_registry(count, seed)
    )
    assert hashlib.sha256(lines.encode("utf-8")).hexdigest() == PINNED[count, seed]


def test_gecc_centers_generate_writes_the_pinned_file(tmp_path: Path) -> None:
    out = tmp_path / "registry.csv"
    generated = CliRunner().invoke(
        app, ["centers", "generate", "--count", "1343", "--out", str(out)]
    )
    assert generated.exit_code == 0, generated.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() == PINNED_FILE_1343
    offices = parse_offices((tmp_path / "registry-offices.csv").read_text(encoding="utf-8"))
    assert [office.path for office in offices] == office_paths(generate_registry(1343))


def test_every_center_reports_through_a_pmo_office(registry: list[Center]) -> None:
    assert all(c.office_path.startswith("PMO/") for c in registry)
    assert {c.office_path for c in registry} <= KNOWN_PATHS


def test_certifications_run_out_between_2026_and_2028(registry: list[Center]) -> None:
    assert all(
        c.certified_until is not None
        and date(2026, 1, 1) <= c.certified_until <= date(2028, 12, 31)
        for c in registry
    )


def test_office_paths_lists_each_office_and_its_ancestors_once() -> None:
    centers = [
        Center("GECC-0001", "ก", "A", "PMO/MOI/DOL", "เชียงใหม่"),
        Center("GECC-0002", "ข", "B", "PMO/MOI/DOL", "ลำพูน"),
        Center("GECC-0003", "ค", "C", "PMO/BMA/DISTRICT", "กรุงเทพมหานคร"),
    ]
    assert office_paths(centers) == [
        "PMO",
        "PMO/BMA",
        "PMO/BMA/DISTRICT",
        "PMO/MOI",
        "PMO/MOI/DOL",
    ]


def test_office_paths_of_the_registry_are_closed_under_ancestors(registry: list[Center]) -> None:
    paths = office_paths(registry)
    assert paths == sorted(set(paths))
    assert {"PMO", "PMO/BMA", "PMO/PROVINCE", "PMO/PROVINCE/TH-50", "PMO/SOE/PEA"} <= set(paths)
    assert all(p.rsplit("/", 1)[0] in paths for p in paths if p != "PMO")


def test_the_benchmark_size_stays_unique() -> None:
    centers = generate_registry(134_300)
    assert len(centers) == 134_300
    assert_well_formed(centers)
    assert len(under(centers, "PMO/BMA")) == 8_800


@pytest.mark.parametrize("count", [10, 11, 100, 2686])
def test_the_bma_share_scales_and_never_vanishes(count: int) -> None:
    assert len(under(generate_registry(count), "PMO/BMA")) == max(1, round(count * 88 / 1343))


def test_a_handful_of_centers() -> None:
    centers = generate_registry(5)
    assert len(centers) == 5
    assert_well_formed(centers)


def test_an_empty_registry_and_a_negative_count() -> None:
    assert generate_registry(0) == []
    with pytest.raises(ValueError):
        generate_registry(-1)


@settings(max_examples=25, deadline=None)
@given(count=st.integers(min_value=1, max_value=3000), seed=st.integers(0, 2**32))
def test_any_count_gives_that_many_well_formed_centers(count: int, seed: int) -> None:
    centers = generate_registry(count, seed)
    assert len(centers) == count
    assert_well_formed(centers)


def test_every_office_of_the_registry_has_its_names(registry: list[Center]) -> None:
    offices = {office.path: office for office in generated_offices(registry)}
    assert list(offices) == office_paths(registry)
    assert (offices["PMO/BMA"].name_th, offices["PMO/BMA"].name_en) == (
        "กรุงเทพมหานคร",
        "Bangkok Metropolitan Administration",
    )
    assert offices["PMO"].name_th == "สำนักนายกรัฐมนตรี"
    assert all(office.name_th and office.name_en for office in offices.values())
