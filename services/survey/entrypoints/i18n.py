"""The survey's words from its translation catalogue (``translations/<locale>/*.toml``,
nested tables of messages; a message named twice is an error). Citizens read Thai."""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CATALOGUES = Path(__file__).resolve().parent.parent / "translations"


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


class Catalogue:
    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages

    @classmethod
    def load(cls, locale: str = "th", directory: Path = CATALOGUES) -> "Catalogue":
        messages: dict[str, str] = {}
        for path in sorted((directory / locale).glob("*.toml")):
            found = _flatten(tomllib.loads(path.read_text("utf-8")))
            if twice := sorted(messages.keys() & found.keys()):
                raise ValueError(f"{path}: messages named in another file too: {twice}")
            messages.update(found)
        return cls(messages)

    def text(self, key: str, **params: Any) -> str:
        """The message with ``{name}`` filled in; a missing key raises (tests keep it whole)."""
        message = self.messages[key]
        return message.format(**params) if params else message
