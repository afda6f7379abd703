"""The portal's catalogues: Thai and English hold the same messages, every message a page
names exists, and each fills in the same values in both languages."""

import re
import string
from pathlib import Path

from services.portal.entrypoints.i18n import Catalogue

PORTAL = Path(__file__).resolve().parents[2] / "services" / "portal"
CATALOGUE = Catalogue.load()


def test_both_languages_hold_the_same_messages_with_the_same_values() -> None:
    th, en = CATALOGUE.messages["th"], CATALOGUE.messages["en"]
    assert set(th) == set(en)
    for key in th:
        names = {n for _, n, _, _ in string.Formatter().parse(th[key]) if n}
        assert names == {n for _, n, _, _ in string.Formatter().parse(en[key]) if n}, key


def test_every_message_a_page_names_exists() -> None:
    named: set[str] = set()
    for path in [*PORTAL.glob("templates/*.html"), *PORTAL.glob("**/*.py")]:
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_]+)["']""", text))
        named |= set(re.findall(r"""["'](error\.[a-z_]+)["']""", text))
    named -= {"error.html"}  # a template's name, not a message
    assert named, "no message names found"
    messages = set(CATALOGUE.messages["th"])
    # A name ending in "_" is the start of names a page completes ("receipt.status_" ~ status).
    missing = [
        name
        for name in named
        if not (
            name in messages or (name.endswith("_") and any(m.startswith(name) for m in messages))
        )
    ]
    assert sorted(missing) == []


def test_thai_pages_are_written_in_thai() -> None:
    th = CATALOGUE.messages["th"]
    thai = [key for key, text in th.items() if re.search("[\u0e00-\u0e7f]", text)]
    assert len(thai) / len(th) > 0.9
