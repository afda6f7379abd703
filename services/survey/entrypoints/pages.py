"""The public pages as bytes: the survey form (kept ready per center, only the visit token
put in per request), the form shown again filled in, and the short message pages."""

import base64
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2

from services.survey.domain.directory import Center
from services.survey.entrypoints.i18n import Catalogue
from shared.standards import Question

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TOKEN_MARK = "\x00token\x00"


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def css() -> str:
    return (TEMPLATES / "survey.css").read_text("utf-8").strip()


def style_hash(text: str) -> str:
    """The CSP source allowing exactly this inline style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class Pages:
    def __init__(self, catalogue: Catalogue, questions: Sequence[Question]) -> None:
        self.env = environment()
        self.catalogue = catalogue
        self.css = css()
        self.questions = list(questions)
        self._blank: dict[str, tuple[Center, bytes, bytes]] = {}
        self._messages: dict[tuple[str, Center | None], bytes] = {}

    def _render(self, template: str, **context: object) -> bytes:
        return (
            self.env.get_template(template)
            .render(t=self.catalogue.text, css=self.css, **context)
            .encode()
        )

    def blank_form(self, center: Center, token: str) -> bytes:
        """The empty form of ``center``: rendered once per center (again if it changed)."""
        kept = self._blank.get(center.center_id)
        if kept is None or kept[0] != center:
            page = self.form(center, TOKEN_MARK)
            head, tail = page.split(TOKEN_MARK.encode())
            kept = self._blank[center.center_id] = (center, head, tail)
        return kept[1] + token.encode() + kept[2]

    def form(
        self,
        center: Center,
        token: str,
        ratings: Mapping[str, int] | None = None,
        missing: Sequence[str] = (),
        message: str = "",
    ) -> bytes:
        return self._render(
            "survey.html",
            center=center,
            token=token,
            questions=self.questions,
            ratings=ratings or {},
            missing=set(missing),
            message=message,
        )

    def message(self, kind: str, center: Center | None = None) -> bytes:
        """A short page (thanks, repeat, closed, not found), rendered once per kind and
        center as it now is."""
        key = (kind, center)
        page = self._messages.get(key)
        if page is None:
            if len(self._messages) > 20_000:  # renamed centers' pages, say
                self._messages.clear()
            page = self._messages[key] = self._render("message.html", kind=kind, center=center)
        return page

    def text(self, key: str, **params: object) -> str:
        return self.catalogue.text(key, **params)
