"""Dates as Thai readers expect them: Asia/Bangkok time, Buddhist-Era year."""

from datetime import datetime

from services.intake.domain.rounds import BANGKOK, BE_OFFSET

MONTHS_TH = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)


def thai_date(moment: datetime) -> str:
    """``2027-04-30T16:59:59Z`` -> ``30 เมษายน 2570``."""
    local = moment.astimezone(BANGKOK)
    return f"{local.day} {MONTHS_TH[local.month - 1]} {local.year + BE_OFFSET}"


def thai_datetime(moment: datetime) -> str:
    local = moment.astimezone(BANGKOK)
    return f"{thai_date(moment)} เวลา {local:%H:%M} น."
