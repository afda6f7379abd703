"""A deterministic generator of a realistic made-up registry (1,343 certified centers in 2022,
88 BMA), from the places and offices of ``gecc/registry_data.toml``: for demos, benchmarks
and tests."""

import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from gecc.registry_data import (
    BANGKOK,
    Bilingual,
    BmaUnit,
    MetropolitanService,
    Province,
    ProvincialService,
    RegistryData,
    registry_data,
)
from services.intake.domain.centers import Center
from services.intake.domain.offices import Office

CENTERS_2022 = 1343
BMA_CENTERS_2022 = 88
# Three-year certifications awarded 2023-2025 run out between these dates.
FIRST_EXPIRY = date(2026, 1, 1)
LAST_EXPIRY = date(2028, 12, 31)

Words = dict[str, Bilingual]
_KEEP_N: Words = {"n": ("{n}", "{n}")}  # left in place for _Presence.name to number


@dataclass(frozen=True)
class _Presence:
    """One office's centers in one place: its named sites first, then numbered branches."""

    office_path: str
    province: Province
    named: tuple[Bilingual, ...]
    numbered: Bilingual  # patterns whose only placeholder is {n}, the branch's ordinal

    def name(self, index: int) -> Bilingual:
        if index < len(self.named):
            return self.named[index]
        return self.numbered[0].format(n=index + 1), self.numbered[1].format(n=index + 1)


class _Network(NamedTuple):
    weight: int  # centers in the 1,343-center registry
    presences: tuple[_Presence, ...]


def generate_registry(count: int = CENTERS_2022, seed: int = 2570) -> list[Center]:
    """A registry of ``count`` certified centers, identical for the same arguments.

    At 1,343 it has the 2022 shape: 88 BMA centers, one Damrongdhama center per province, the
    rest spread over ministries and state enterprises; other counts scale it proportionally.
    """
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    data = registry_data()
    bma_networks = [_bma_network(unit, data.province(BANGKOK)) for unit in data.bma_units]
    other_networks = [
        *(_provincial_network(service, data) for service in data.provincial_services),
        *(_metropolitan_network(service, data) for service in data.metropolitan_services),
    ]
    rng = random.Random(seed)
    bma = _bma_share(count)
    sites = _draw(bma_networks, bma, rng) + _draw(other_networks, count - bma, rng)
    rng.shuffle(sites)  # ids follow certification order, not the office tree
    return [
        _center(number, presence, index, rng)
        for number, (presence, index) in enumerate(sites, start=1)
    ]


def office_paths(centers: Iterable[Center]) -> list[str]:
    """Every office the centers report through, ancestors included: PMO, PMO/MOI, PMO/MOI/DOL."""
    paths: set[str] = set()
    for path in {center.office_path for center in centers}:
        segments = path.split("/")
        paths.update("/".join(segments[:depth]) for depth in range(1, len(segments) + 1))
    return sorted(paths)


def contact_email(code: str, office_path: str) -> str:
    """A made-up but well-formed address under the example.go.th test domain."""
    office = office_path.split("/")[1].lower()
    return f"{code.lower()}@{office}.example.go.th"


def _fill(template: Bilingual, words: Words) -> Bilingual:
    thai = {key: pair[0] for key, pair in words.items()}
    english = {key: pair[1] for key, pair in words.items()}
    return template[0].format_map(thai), template[1].format_map(english)


def _place_words(province: Province) -> Words:
    name = (province.name_th, province.name_en)
    if province.code == BANGKOK:
        where = ("กรุงเทพมหานคร", "Bangkok Metropolitan")
    else:
        where = (f"จังหวัด{province.name_th}", f"{province.name_en} Provincial")
    # Ayutthaya is the one province whose capital district is not "Mueang <province>".
    mueang = name if province.code == "TH-14" else (f"เมือง{name[0]}", f"Mueang {name[1]}")
    return {"province": name, "where": where, "mueang": mueang}


def _provincial_network(service: ProvincialService, data: RegistryData) -> _Network:
    provinces = (p for p in data.provinces if p.code not in service.excluded)
    return _Network(
        service.weight, tuple(_provincial_presence(service, p, data) for p in provinces)
    )


def _provincial_presence(
    service: ProvincialService, province: Province, data: RegistryData
) -> _Presence:
    words = _place_words(province)
    words["main"] = _fill(service.main, words)
    return _Presence(
        office_path=service.office_path.format(code=province.code),
        province=province,
        named=_provincial_named(service, province, words, data.amphoes.get(province.code, ())),
        numbered=_fill(service.numbered, words | _KEEP_N),
    )


def _provincial_named(
    service: ProvincialService, province: Province, words: Words, amphoes: Sequence[Bilingual]
) -> tuple[Bilingual, ...]:
    if province.code == BANGKOK and service.bangkok_area is not None:
        areas = range(1, service.bangkok_areas + 1)
        return tuple(_fill(service.bangkok_area, {"n": (str(n), str(n))}) for n in areas)
    also = tuple(_fill(template, words) for template in service.also)
    branches = tuple(_fill(service.branch, words | {"amphoe": amphoe}) for amphoe in amphoes)
    return (words["main"], *also, *branches)


def _metropolitan_network(service: MetropolitanService, data: RegistryData) -> _Network:
    presences = []
    for code, sites in service.sites.items():
        province = data.province(code)
        named = tuple(_fill(service.site, {"site": site}) for site in sites)
        numbered = _fill(service.numbered, _place_words(province) | _KEEP_N)
        presences.append(_Presence(service.office_path, province, named, numbered))
    return _Network(service.weight, tuple(presences))


def _bma_network(unit: BmaUnit, bangkok: Province) -> _Network:
    """Each site numbers its own branches: สำนักงานเขตพระนคร สาขา 2, ..."""
    if not unit.sites:
        return _Network(unit.weight, (_Presence(unit.office_path, bangkok, (), unit.numbered),))
    return _Network(
        unit.weight,
        tuple(
            _Presence(
                unit.office_path, bangkok, (site,), _fill(unit.numbered, {"site": site} | _KEEP_N)
            )
            for site in unit.sites
        ),
    )


def _bma_share(count: int) -> int:
    # count * 88 / 1343 rounded half up, in integers
    share = (2 * count * BMA_CENTERS_2022 + CENTERS_2022) // (2 * CENTERS_2022)
    return max(share, 1) if count >= 10 else share


def _draw(
    networks: Sequence[_Network], total: int, rng: random.Random
) -> list[tuple[_Presence, int]]:
    shares = _apportion(total, [network.weight for network in networks])
    return [
        site
        for network, share in zip(networks, shares, strict=True)
        for site in itertools.islice(_sites(network.presences, rng), share)
    ]


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder (ties: first wins)."""
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _sites(presences: Sequence[_Presence], rng: random.Random) -> Iterator[tuple[_Presence, int]]:
    """(presence, index) round by round: named sites while any place has one left, then numbered
    branches everywhere. Each round visits places in seeded order, so a partial round picks
    seeded places."""
    if not presences:
        return
    named_rounds = max(len(presence.named) for presence in presences)
    for rank in itertools.count():
        if rank < named_rounds:
            round_ = [(p, rank) for p in presences if rank < len(p.named)]
        else:
            round_ = [(p, len(p.named) + rank - named_rounds) for p in presences]
        rng.shuffle(round_)
        yield from round_


def _center(number: int, presence: _Presence, index: int, rng: random.Random) -> Center:
    name_th, name_en = presence.name(index)
    code = f"GECC-{number:04d}"
    return Center(
        id=code,
        name_th=name_th,
        name_en=name_en,
        office_path=presence.office_path,
        province=presence.province.name_th,
        certified_until=_certified_until(rng),
        contact_emails=(contact_email(code, presence.office_path),),
    )


def _certified_until(rng: random.Random) -> date:
    return FIRST_EXPIRY + timedelta(days=rng.randrange((LAST_EXPIRY - FIRST_EXPIRY).days + 1))


def generated_offices(centers: Iterable[Center]) -> list[Office]:
    """The names of every office the centers report through, ancestors included, from the
    registry's data file (``gecc offices import`` takes them)."""
    named = {office.path: office for office in registry_data().every_office()}
    return [
        Office(path, named[path].name_th, named[path].name_en)
        for path in office_paths(centers)
        if path in named
    ]
