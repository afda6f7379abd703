"""Templates to text: ``templates/<kind>.txt.j2``, a subject line, a blank line, the body."""

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from shared.events import Verdict
from shared.thai import english_date, english_datetime, thai_date, thai_datetime

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

VERDICT_LABELS: dict[Verdict, tuple[str, str]] = {
    "maintained": ("รักษามาตรฐานได้", "Maintained"),
    "at_risk": ("มีความเสี่ยง", "At risk"),
    "not_maintained": ("ไม่สามารถรักษามาตรฐานได้", "Not maintained"),
}


class Kind(StrEnum):
    RECEIPT = "receipt"
    RESULT = "result"
    REMINDER = "reminder"
    OVERDUE = "overdue"
    OFFICE_SUMMARY = "office_summary"
    OPERATOR_SUMMARY = "operator_summary"
    SIGN_IN = "sign_in"


def render(kind: Kind, **context: Any) -> tuple[str, str]:
    """The template's first line is the subject, the text after the blank line the body."""
    text = _templates().get_template(f"{kind.value}.txt.j2").render(**context)
    subject, blank, body = text.partition("\n\n")
    if not blank or "\n" in subject or not subject.strip():
        raise ValueError(f"template {kind.value} must start with a subject line and a blank line")
    return subject.strip(), body.strip() + "\n"


def _percent(value: float) -> str:
    # Half up from the printed value, as people round: 84.25 -> 84.3 (binary floats say 84.2).
    return str(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@cache
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text, never HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        th_date=thai_date,
        th_datetime=thai_datetime,
        en_date=english_date,
        en_datetime=english_datetime,
        percent=_percent,
        verdict_th=lambda verdict: VERDICT_LABELS[verdict][0],
        verdict_en=lambda verdict: VERDICT_LABELS[verdict][1],
    )
    return environment
