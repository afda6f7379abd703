"""Reasons in words: Thai first (the people who read them), English beneath."""

from shared.events import Reason
from shared.standards import Standard


def explain(standard: Standard, code: str, detail: dict[str, float | int | str]) -> Reason:
    th, en = _texts(standard, code, detail)
    return Reason(code=code, detail=detail, text_th=th, text_en=en)


def _texts(standard: Standard, code: str, d: dict[str, float | int | str]) -> tuple[str, str]:
    if code == "mandatory_item_not_met":
        item = next(i for i in standard.items if i.code == d["item"])
        return (
            f"ไม่ผ่านเกณฑ์บังคับข้อ {item.code}: {item.title_th}",
            f"Mandatory item {item.code} not met: {item.title_en}",
        )
    if code == "satisfaction_below_threshold":
        th, en = _source_texts(d)
        return (
            f"ความพึงพอใจร้อยละ {d['percent']} ต่ำกว่าเกณฑ์ร้อยละ {d['threshold']}{th}",
            f"Satisfaction {d['percent']} % is below the {d['threshold']} % threshold{en}",
        )
    if code == "checklist_below_threshold":
        return (
            f"ผลการประเมินตนเองร้อยละ {d['percent']} ต่ำกว่าเกณฑ์ร้อยละ {d['threshold']}",
            f"Self-assessment {d['percent']} % is below the {d['threshold']} % threshold",
        )
    if code == "sample_too_small":
        return _sample_texts(d)
    raise ValueError(f"no wording for reason {code!r}")


def _sample_texts(d: dict[str, float | int | str]) -> tuple[str, str]:
    th = (
        f"ข้อคำถามที่มีผู้ตอบน้อยที่สุด ({d['question']}) มีผู้ตอบ {d['sample']} คน น้อยกว่าขั้นต่ำ {d['minimum']} คน"
    )
    en = (
        f"The smallest number of answers to a question was {d['sample']} ({d['question']}),"
        f" fewer than the minimum of {d['minimum']}"
    )
    if d["respondents"] != d["sample"]:
        th += f" (แจ้งผู้ตอบแบบสำรวจ {d['respondents']} คน)"
        en += f" ({d['respondents']} respondents declared)"
    source_th, source_en = _source_texts(d)
    return th + source_th, en + source_en


def _source_texts(d: dict[str, float | int | str]) -> tuple[str, str]:
    """Where the satisfaction figures come from (spec §11), if the detail says."""
    if d.get("source") == "citizen_survey":
        return (
            f" (จากแบบสำรวจความพึงพอใจของประชาชนผ่านระบบ {d['responses']} คน)",
            f" (from the citizen survey, {d['responses']} responses)",
        )
    if d.get("source") == "center_survey":
        return " (จากแบบสำรวจที่ศูนย์ฯ ดำเนินการเอง)", " (from the center's own survey)"
    return "", ""
