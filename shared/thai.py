"""Dates as Thai readers expect them: Asia/Bangkok time, Buddhist-Era year."""

from datetime import datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543

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

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: times are UTC-aware everywhere")
    return moment.astimezone(BANGKOK)


def thai_date(moment: datetime) -> str:
    """``2027-04-30T16:59:59Z`` -> ``30 เมษายน 2570``."""
    local = _local(moment)
    return f"{local.day} {MONTHS_TH[local.month - 1]} {local.year + BE_OFFSET}"


def thai_datetime(moment: datetime) -> str:
    """``2027-04-30T16:59:59Z`` -> ``30 เมษายน 2570 เวลา 23:59 น.``."""
    return f"{thai_date(moment)} เวลา {_local(moment):%H:%M} น."


def english_date(moment: datetime) -> str:
    """``2027-04-30T16:59:59Z`` -> ``30 April 2570 B.E.`` (the same Buddhist-Era year)."""
    local = _local(moment)
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year + BE_OFFSET} B.E."


def english_datetime(moment: datetime) -> str:
    """``2027-04-30T16:59:59Z`` -> ``30 April 2570 B.E., 23:59 Bangkok time``."""
    return f"{english_date(moment)}, {_local(moment):%H:%M} Bangkok time"
