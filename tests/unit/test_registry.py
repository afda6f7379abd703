"""The generated GECC registry: its 2022 shape, uniqueness, determinism and scale."""

import re
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.domain.centers import Center
from services.intake.domain.registry import (
    BANGKOK_DISTRICTS,
    OFFICES,
    PROVINCES,
    generate_registry,
    office_paths,
)

KNOWN_PATHS = {office.path for office in OFFICES}


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
    assert district_offices == {f"สำนักงานเขต{th}" for th, _ in BANGKOK_DISTRICTS}


def test_ids_run_from_gecc_0001_and_names_are_unique(registry: list[Center]) -> None:
    assert_well_formed(registry)
    assert sorted(c.id for c in registry) == [f"GECC-{n:04d}" for n in range(1, 1344)]


def test_the_same_arguments_give_the_same_registry_another_seed_another(
    registry: list[Center],
) -> None:
    assert generate_registry(1343, 2570) == registry
    assert generate_registry(1343, 2571) != registry


def test_every_center_reports_through_a_pmo_office(registry: list[Center]) -> None:
    assert all(c.office_path.startswith("PMO/") for c in registry)
    assert {c.office_path for c in registry} <= KNOWN_PATHS


def test_certifications_run_out_between_2026_and_2028(registry: list[Center]) -> None:
    assert all(
        c.certified_until is not None
        and date(2026, 1, 1) <= c.certified_until <= date(2028, 12, 31)
        for c in registry
    )


def test_provinces_carry_their_iso_codes() -> None:
    by_code = {p.code: p for p in PROVINCES}
    assert len(PROVINCES) == len(by_code) == 77
    assert all(re.fullmatch(r"TH-\d\d", code) for code in by_code)
    assert (by_code["TH-10"].name_th, by_code["TH-10"].name_en) == ("กรุงเทพมหานคร", "Bangkok")
    assert (by_code["TH-50"].name_th, by_code["TH-50"].name_en) == ("เชียงใหม่", "Chiang Mai")
    assert by_code["TH-38"].name_en == "Bueng Kan"


def test_offices_form_a_tree_under_the_pmo() -> None:
    assert len(KNOWN_PATHS) == len(OFFICES)
    for office in OFFICES:
        assert re.fullmatch(r"[A-Z0-9-]+", office.code)
        assert office.parent in KNOWN_PATHS | {""}
        assert office.path == "PMO" or office.path.startswith("PMO/")


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
