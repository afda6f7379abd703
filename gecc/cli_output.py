"""How the operators' commands print: tables in aligned columns, times in Bangkok time."""

from collections.abc import Sequence
from datetime import datetime

import typer

from services.intake.domain.rounds import BANGKOK


def echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def bangkok_time(moment: datetime) -> str:
    return f"{moment.astimezone(BANGKOK):%Y-%m-%d %H:%M}"
