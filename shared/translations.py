"""Reading a service's translation catalogue: ``<folder>/*.toml``, one file a part of the
service, nested tables of messages flattened to dotted names; a message named in two files
is an error."""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def load_messages(folder: Path) -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        found = _flatten(tomllib.loads(path.read_text("utf-8")))
        if twice := sorted(messages.keys() & found.keys()):
            raise ValueError(f"{path}: messages named in another file too: {', '.join(twice)}")
        messages.update(found)
    return messages


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat
