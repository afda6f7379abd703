"""The registry's data file: Thailand's provinces and the offices, read whole and checked."""

import re
from pathlib import Path

import pytest

from gecc.registry_data import DATA_FILE, RegistryDataError, load_registry_data, registry_data
from gecc.registry_generator import BMA_CENTERS_2022, CENTERS_2022


def test_provinces_carry_their_iso_codes_and_their_thai_names() -> None:
    by_code = {p.code: p for p in registry_data().provinces}
    assert len(by_code) == 77
    assert all(re.fullmatch(r"TH-\d\d", code) for code in by_code)
    assert (by_code["TH-10"].name_th, by_code["TH-10"].name_en) == ("กรุงเทพมหานคร", "Bangkok")
    assert (by_code["TH-50"].name_th, by_code["TH-50"].name_en) == ("เชียงใหม่", "Chiang Mai")
    assert by_code["TH-14"].name_th == "พระนครศรีอยุธยา"
    assert by_code["TH-38"].name_en == "Bueng Kan"


def test_offices_form_a_tree_under_the_pmo() -> None:
    offices = registry_data().every_office()
    paths = {office.path for office in offices}
    assert len(paths) == len(offices)
    for office in offices:
        assert re.fullmatch(r"[A-Z0-9-]+", office.code)
        assert office.parent in paths | {""}
        assert office.path == "PMO" or office.path.startswith("PMO/")


def test_every_province_but_bangkok_has_its_office() -> None:
    offices = {office.path: office for office in registry_data().every_office()}
    assert "PMO/PROVINCE/TH-10" not in offices
    chiang_mai = offices["PMO/PROVINCE/TH-50"]
    assert (chiang_mai.name_th, chiang_mai.name_en) == ("จังหวัดเชียงใหม่", "Chiang Mai Province")


def test_the_weights_add_up_to_the_2022_registry() -> None:
    data = registry_data()
    bma = sum(unit.weight for unit in data.bma_units)
    provincial = sum(service.weight for service in data.provincial_services)
    metropolitan = sum(service.weight for service in data.metropolitan_services)
    assert (bma, bma + provincial + metropolitan) == (BMA_CENTERS_2022, CENTERS_2022)


def test_bangkok_branches_are_in_khet_with_a_district_office() -> None:
    data = registry_data()
    (districts,) = (u for u in data.bma_units if u.office_path == "PMO/BMA/DISTRICT")
    assert {f"สำนักงานเขต{th}" for th, _ in data.amphoes["TH-10"]} <= {
        th for th, _ in districts.sites
    }


def write_changed(tmp_path: Path, old: str, new: str) -> Path:
    text = DATA_FILE.read_text(encoding="utf-8")
    assert old in text
    changed = tmp_path / "registry_data.toml"
    changed.write_text(text.replace(old, new, 1), encoding="utf-8")
    return changed


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("TH-96 = [", "TH-97 = [", "no such provinces: TH-97"),
        ('path = "PMO/SOE/MWA"', 'path = "PMO/SOE/WATER"', "not listed: PMO/SOE/MWA"),
        ('office_path = "PMO/MOF/RD"', 'office_path = "PMO/MOF/RDX"', "not listed: PMO/MOF/RDX"),
        ("weight = 76", "weight = 0", "provincial_services.0.weight: Input should be greater"),
        ('code = "TH-38"', 'code = "TH-3"', "provinces.26.code: String should match"),
        ('{ code = "TH-10", ', '{ code = "TH-10", capital = "x", ', "provinces.0.capital"),
    ],
)
def test_a_broken_file_names_the_field_and_the_reason(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    with pytest.raises(RegistryDataError, match=re.escape(reason)):
        load_registry_data(write_changed(tmp_path, old, new))


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryDataError, match="cannot read"):
        load_registry_data(write_changed(tmp_path, "[amphoes]", "[amphoes"))
