"""The portal's catalogues: Thai and English hold the same messages, every message a page
names exists, and each fills in the same values in both languages."""

import re
import string
from pathlib import Path

import pytest

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


def test_a_message_named_in_two_files_of_a_language_is_refused(tmp_path: Path) -> None:
    for locale in ("th", "en"):
        (tmp_path / locale).mkdir()
        (tmp_path / locale / "a.toml").write_text('[site]\nname = "x"\n', encoding="utf-8")
        (tmp_path / locale / "b.toml").write_text('[site]\nname = "y"\n', encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"b\.toml: messages named in another file too: site\.name"
    ):
        Catalogue.load(tmp_path)
