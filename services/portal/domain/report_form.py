"""The report form: what a center's staff type, checked by the same rules intake applies
(spec §3), each problem named by the form control it belongs to.

Every value is kept as typed (a string) so that a wrong entry is shown back as it was, and
a draft holds exactly what was on the screen. An empty count is a count of 0: 40 boxes of
which most stay empty is how the paper form is filled in too.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from uuid import UUID

from pydantic import ValidationError

from services.portal.domain.survey import CITIZEN_SURVEY, SurveySource, Tally, percent_of
from shared.standards import Standard
from shared.submission import MAX_FILES_PER_ITEM, MAX_RESPONDENTS, RATING_SCALE, SubmissionBody

MAX_EVIDENCE = 2000
Met = Literal["yes", "no", ""]


@dataclass(frozen=True)
class ItemAnswer:
    met: Met = ""
    evidence: str = ""
    # ids of the evidence files attached to the item (intake holds the files)
    files: tuple[str, ...] = ()

    def with_files(self, files: tuple[str, ...]) -> "ItemAnswer":
        return ItemAnswer(self.met, self.evidence, file_ids(files))


@dataclass(frozen=True)
class FieldError:
    """A problem with one control: ``key`` names its message in the catalogue."""

    control: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)


def respondents_control() -> str:
    return "respondents"


def count_control(question: str, rating: int) -> str:
    return f"count-{question}-{rating}"


def met_control(item: str) -> str:
    return f"met-{item}"


def evidence_control(item: str) -> str:
    return f"evidence-{item}"


def files_control(item: str) -> str:
    """A hidden control: the item's file ids, comma-separated."""
    return f"files-{item}"


# The hidden controls that carry a citizen survey source with the form (the tally's taken
# into the report by the form's button; the figures stay read-only while they are).
SOURCE_CONTROL = "source"
SOURCE_RESPONSES = "source-responses"
SOURCE_REVISION = "source-revision"
SOURCE_TALLIED_AT = "source-tallied-at"


def upload_control(item: str) -> str:
    return f"upload-{item}"


def file_ids(values: Any) -> tuple[str, ...]:
    """Evidence file ids as the form and drafts hold them: each a UUID, each once, at most
    20 (anything else is dropped: the ids come from the page, not from people)."""
    if isinstance(values, str):
        values = values.split(",")
    found: list[str] = []
    for value in values if isinstance(values, list | tuple) else ():
        try:
            text = str(UUID(str(value).strip()))
        except ValueError:
            continue
        if text not in found:
            found.append(text)
    return tuple(found[:MAX_FILES_PER_ITEM])


@dataclass(frozen=True)
class ReportForm:
    respondents: str
    counts: dict[str, tuple[str, ...]]
    items: dict[str, ItemAnswer]
    # Where the satisfaction figures come from: a citizen survey's tally, or (None) the
    # center's own survey.
    source: SurveySource | None = None

    @classmethod
    def empty(cls, standard: Standard) -> "ReportForm":
        return cls(
            "",
            {q.code: ("",) * RATING_SCALE for q in standard.questions},
            {i.code: ItemAnswer() for i in standard.items},
        )

    @classmethod
    def from_post(cls, standard: Standard, posted: Mapping[str, str]) -> "ReportForm":
        """The form as posted; controls the standard does not have are ignored."""

        def value(name: str) -> str:
            return str(posted.get(name, "")).strip()

        def met(item: str) -> Met:
            chosen = value(met_control(item))
            return chosen if chosen in ("yes", "no") else ""  # type: ignore[return-value]

        return cls(
            value(respondents_control()),
            {
                q.code: tuple(value(count_control(q.code, r)) for r in range(1, RATING_SCALE + 1))
                for q in standard.questions
            },
            {
                i.code: ItemAnswer(
                    met(i.code),
                    str(posted.get(evidence_control(i.code), "")),
                    file_ids(value(files_control(i.code))),
                )
                for i in standard.items
            },
            _posted_source(posted),
        )

    @classmethod
    def from_report(cls, standard: Standard, report: Mapping[str, Any]) -> "ReportForm":
        """A submitted report as the form shows it (to amend it)."""
        form = cls.empty(standard)
        satisfaction = report.get("satisfaction", {})
        counts = {
            q["code"]: tuple(str(c) for c in q["counts"])
            for q in satisfaction.get("questions", [])
            if q.get("code") in form.counts
        }
        items = {
            i["code"]: ItemAnswer(
                "yes" if i.get("met") else "no",
                str(i.get("evidence", "")),
                file_ids(i.get("files", [])),
            )
            for i in report.get("checklist", {}).get("items", [])
            if i.get("code") in form.items
        }
        return cls(
            str(satisfaction.get("respondents", "")),
            {**form.counts, **counts},
            {**form.items, **items},
            SurveySource.parsed(satisfaction.get("source")),
        )

    @classmethod
    def from_fields(cls, standard: Standard, fields: Mapping[str, Any]) -> "ReportForm":
        """A draft as saved (``to_fields``), fitted to the standard as it is now."""
        form = cls.empty(standard)
        counts = {
            code: tuple(str(c) for c in values)[:RATING_SCALE]
            for code, values in fields.get("counts", {}).items()
            if code in form.counts and len(values) == RATING_SCALE
        }
        items = {
            code: ItemAnswer(
                item.get("met") if item.get("met") in ("yes", "no") else "",
                str(item.get("evidence", "")),
                file_ids(item.get("files", [])),
            )
            for code, item in fields.get("items", {}).items()
            if code in form.items
        }
        return cls(
            str(fields.get("respondents", "")),
            {**form.counts, **counts},
            {**form.items, **items},
            SurveySource.parsed(fields.get("source")),
        )

    def to_fields(self) -> dict[str, Any]:
        return {
            "respondents": self.respondents,
            "counts": {code: list(values) for code, values in self.counts.items()},
            "items": {
                code: {"met": a.met, "evidence": a.evidence, "files": list(a.files)}
                for code, a in self.items.items()
            },
            "source": self.source.to_json() if self.source else None,
        }

    def merged(self, other: "ReportForm") -> "ReportForm":
        """This form with every value ``other`` has filled in (a kept form over a draft)."""
        return ReportForm(
            other.respondents or self.respondents,
            {
                code: tuple(b or a for a, b in zip(values, other.counts[code], strict=True))
                for code, values in self.counts.items()
            },
            {
                code: ItemAnswer(
                    other.items[code].met or answer.met,
                    other.items[code].evidence or answer.evidence,
                    other.items[code].files or answer.files,
                )
                for code, answer in self.items.items()
            },
            other.source or self.source,
        )

    def with_item_files(self, item: str, files: tuple[str, ...]) -> "ReportForm":
        """The form with ``item``'s files replaced (attached or removed)."""
        items = {**self.items, item: self.items[item].with_files(files)}
        return replace(self, items=items)

    def with_tally(self, tally: Tally) -> "ReportForm":
        """The satisfaction part filled from a citizen survey's tally, which the report then
        names as its source (the checklist as it was)."""
        return replace(
            self,
            respondents=str(tally.responses),
            counts={code: tuple(str(c) for c in tally.counts_of(code)) for code in self.counts},
            source=SurveySource.of_tally(tally),
        )

    def without_source(self) -> "ReportForm":
        """The same figures, now the center's own (they may be typed over)."""
        return replace(self, source=None)

    def percent(self, question: str) -> float | None:
        """Satisfaction of one question (mean rating / 5 * 100), once its counts are whole
        numbers with at least one answer."""
        counts = [_whole(c) for c in self.counts[question]]
        if any(c is None or c < 0 for c in counts):
            return None
        return percent_of([c or 0 for c in counts])

    def overall_percent(self) -> float | None:
        """All answers of all questions pooled (spec §4)."""
        pooled = [0] * RATING_SCALE
        for question in self.counts:
            for index, count in enumerate(self.counts[question]):
                value = _whole(count)
                if value is None or value < 0:
                    return None
                pooled[index] += value
        return percent_of(pooled)


def _posted_source(posted: Mapping[str, str]) -> SurveySource | None:
    if str(posted.get(SOURCE_CONTROL, "")) != CITIZEN_SURVEY:
        return None
    return SurveySource.parsed(
        {
            "kind": CITIZEN_SURVEY,
            "responses": str(posted.get(SOURCE_RESPONSES, "")).strip(),
            "revision": str(posted.get(SOURCE_REVISION, "")).strip(),
            "tallied_at": str(posted.get(SOURCE_TALLIED_AT, "")).strip(),
        }
    )


def report_json(body: SubmissionBody) -> str:
    """The body intake is sent: the report checked, its ``satisfaction.source`` left out when
    it is the default (the center's own survey)."""
    report = body.model_dump(mode="json")
    if body.satisfaction.source.kind != CITIZEN_SURVEY:
        del report["satisfaction"]["source"]
    return json.dumps(report, ensure_ascii=False)


def _whole(text: str) -> int | None:
    text = text.strip().replace(",", "")
    if text == "":
        return 0
    return int(text) if text.isdecimal() and text.isascii() else None


def check(
    form: ReportForm, standard: Standard, round_id: str
) -> tuple[SubmissionBody | None, list[FieldError]]:
    """The report intake would accept, or every problem with the form."""
    errors: list[FieldError] = []
    respondents = _check_respondents(form.respondents, errors)
    source = form.source
    if source is not None and respondents is not None and respondents != source.responses:
        params = {"responses": source.responses}
        errors.append(FieldError(respondents_control(), "error.survey_responses_differ", params))
    questions = []
    for question in standard.questions:
        counts = _check_counts(question.code, form.counts[question.code], errors)
        if counts is None:
            continue
        total = sum(counts)
        first = count_control(question.code, 1)
        if total == 0:
            errors.append(FieldError(first, "error.question_no_answers"))
        elif respondents is not None and total > respondents:
            params = {"total": total, "respondents": respondents}
            errors.append(FieldError(first, "error.answers_exceed_respondents", params))
        questions.append({"code": question.code, "counts": counts})
    items = []
    for item in standard.items:
        answer = form.items[item.code]
        if answer.met == "":
            errors.append(FieldError(met_control(item.code), "error.choose_met"))
        if len(answer.evidence) > MAX_EVIDENCE:
            errors.append(
                FieldError(
                    evidence_control(item.code),
                    "error.evidence_too_long",
                    {"limit": MAX_EVIDENCE, "length": len(answer.evidence)},
                )
            )
        elif "\x00" in answer.evidence:
            errors.append(FieldError(evidence_control(item.code), "error.not_storable"))
        items.append(
            {
                "code": item.code,
                "met": answer.met == "yes",
                "evidence": answer.evidence,
                "files": list(answer.files),
            }
        )
    if errors or respondents is None:
        return None, errors
    satisfaction: dict[str, Any] = {"respondents": respondents, "questions": questions}
    if source is not None:
        satisfaction["source"] = source.to_json()
    report = {
        "round_id": round_id,
        "satisfaction": satisfaction,
        "checklist": {"standard": standard.id, "items": items},
    }
    try:
        body = SubmissionBody.model_validate(report)
    except ValidationError:  # the rules above are intake's; this is a guard against drift
        return None, [FieldError(respondents_control(), "error.report_invalid")]
    if standard.problems_with(body):
        return None, [FieldError(respondents_control(), "error.report_invalid")]
    return body, []


def _check_respondents(text: str, errors: list[FieldError]) -> int | None:
    control = respondents_control()
    if text == "":
        errors.append(FieldError(control, "error.respondents_required"))
        return None
    value = _whole(text)
    if value is None:
        errors.append(FieldError(control, "error.whole_number"))
    elif value < 1:
        errors.append(FieldError(control, "error.respondents_at_least_one"))
    elif value > MAX_RESPONDENTS:
        errors.append(FieldError(control, "error.too_large", {"limit": MAX_RESPONDENTS}))
    else:
        return value
    return None


def _check_counts(
    question: str, texts: tuple[str, ...], errors: list[FieldError]
) -> list[int] | None:
    counts: list[int] = []
    for rating, text in enumerate(texts, start=1):
        value = _whole(text)
        control = count_control(question, rating)
        if value is None:
            errors.append(FieldError(control, "error.whole_number"))
        elif value > MAX_RESPONDENTS:
            errors.append(FieldError(control, "error.too_large", {"limit": MAX_RESPONDENTS}))
        else:
            counts.append(value)
    return counts if len(counts) == RATING_SCALE else None
