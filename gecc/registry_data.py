"""The places and offices the made-up registry is built from (``gecc/registry_data.toml``).

Loading checks the whole file, references between its tables included, and raises
``RegistryDataError`` naming the field and the reason.
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from shared.validation import validation_problems

DATA_FILE = Path(__file__).resolve().parent / "registry_data.toml"
BANGKOK = "TH-10"

Bilingual = tuple[str, str]  # (Thai, English)
ProvinceCode = Annotated[str, StringConstraints(pattern=r"^TH-\d\d$")]
Weight = Annotated[int, Field(ge=1)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Province(_Data):
    code: ProvinceCode  # ISO 3166-2:TH
    name_th: str
    name_en: str


class Office(_Data):
    """A parent office: one upper-case segment of the ``PMO/...`` path centers report through."""

    path: Annotated[str, StringConstraints(pattern=r"^PMO(/[A-Z0-9-]+)*$")]
    name_th: str
    name_en: str

    @property
    def code(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        """The path of the office above; "" for the PMO itself."""
        return self.path.rpartition("/")[0]


class ProvincialService(_Data):
    """How a department names its centers province by province (see the data file)."""

    office_path: str  # may use {code}, the province's code
    weight: Weight  # centers in the 1,343-center registry
    main: Bilingual
    branch: Bilingual = ("{main} สาขา{amphoe}", "{main}, {amphoe} Branch")
    numbered: Bilingual = ("{main} สาขา {n}", "{main}, Branch {n}")
    also: tuple[Bilingual, ...] = ()
    bangkok_area: Bilingual | None = None  # Bangkok's numbered area offices replace its branches
    bangkok_areas: Annotated[int, Field(ge=0)] = 0
    excluded: frozenset[ProvinceCode] = frozenset()


class MetropolitanService(_Data):
    """A metropolitan authority: named offices by province, then numbered branches."""

    office_path: str
    weight: Weight
    site: Bilingual  # with {site}, one of sites
    numbered: Bilingual
    sites: dict[ProvinceCode, tuple[Bilingual, ...]]


class BmaUnit(_Data):
    """A BMA unit: its named sites in Bangkok, each numbering its own branches."""

    office_path: str
    weight: Weight
    numbered: Bilingual  # with {n}, and {site} when the unit has sites
    sites: tuple[Bilingual, ...] = ()


class RegistryData(_Data):
    provinces: tuple[Province, ...]
    offices: tuple[Office, ...]
    amphoes: dict[ProvinceCode, tuple[Bilingual, ...]]
    provincial_services: tuple[ProvincialService, ...]
    metropolitan_services: tuple[MetropolitanService, ...]
    bma_units: tuple[BmaUnit, ...]

    def province(self, code: str) -> Province:
        return next(p for p in self.provinces if p.code == code)

    def every_office(self) -> tuple[Office, ...]:
        """The offices listed, then each province's but Bangkok's: PMO/PROVINCE/<code>."""
        provincial = (
            Office(
                path=f"PMO/PROVINCE/{p.code}",
                name_th=f"จังหวัด{p.name_th}",
                name_en=f"{p.name_en} Province",
            )
            for p in self.provinces
            if p.code != BANGKOK
        )
        return (*self.offices, *provincial)

    def served_offices(self) -> set[str]:
        """The offices centers report through: each service's, in each province it serves."""
        codes = [p.code for p in self.provinces]
        return {
            *(
                s.office_path.format(code=code)
                for s in self.provincial_services
                for code in codes
                if code not in s.excluded
            ),
            *(s.office_path for s in self.metropolitan_services),
            *(u.office_path for u in self.bma_units),
        }

    @model_validator(mode="after")
    def _references_are_known(self) -> "RegistryData":
        codes = {p.code for p in self.provinces}
        if len(codes) != len(self.provinces) or BANGKOK not in codes:
            raise ValueError(f"provinces: codes must be unique and include {BANGKOK}")
        named = {
            *self.amphoes,
            *(code for s in self.provincial_services for code in s.excluded),
            *(code for s in self.metropolitan_services for code in s.sites),
        }
        if unknown := named - codes:
            raise ValueError(f"no such provinces: {', '.join(sorted(unknown))}")
        offices = [o.path for o in self.every_office()]
        if len(set(offices)) != len(offices):
            raise ValueError("offices: each path once")
        above = {o.parent for o in self.offices} - {""}
        if unknown := (above | self.served_offices()) - set(offices):
            raise ValueError(f"offices: not listed: {', '.join(sorted(unknown))}")
        return self


class RegistryDataError(Exception):
    """The registry's data file cannot be used; the message names the field and the reason."""


@cache
def registry_data() -> RegistryData:
    """The data file shipped with gecc, read once."""
    return load_registry_data(DATA_FILE)


def load_registry_data(path: Path) -> RegistryData:
    try:
        return RegistryData.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RegistryDataError(f"{path}: cannot read: {error}") from error
    except ValidationError as error:
        raise RegistryDataError(f"{path}: {validation_problems(error, '(file)')}") from error
