"""The survey's words from its translation catalogue (``translations/<locale>/*.toml``,
nested tables of messages; a message named twice is an error). Citizens read Thai."""

from pathlib import Path
from typing import Any

from shared.translations import load_messages

CATALOGUES = Path(__file__).resolve().parent.parent / "translations"


class Catalogue:
    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages

    @classmethod
    def load(cls, locale: str = "th", directory: Path = CATALOGUES) -> "Catalogue":
        return cls(load_messages(directory / locale))

    def text(self, key: str, **params: Any) -> str:
        """The message with ``{name}`` filled in; a missing key raises (tests keep it whole)."""
        message = self.messages[key]
        return message.format(**params) if params else message
