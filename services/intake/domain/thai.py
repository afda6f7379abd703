"""Dates as Thai readers expect them; the formatting lives in ``shared.thai``."""

from shared.thai import MONTHS_TH, thai_date, thai_datetime

__all__ = ["MONTHS_TH", "thai_date", "thai_datetime"]
