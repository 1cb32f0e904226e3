"""Occurrence dates of a recurring schedule: start + k x interval periods."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY")
_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}


def add_months(start: date, months: int) -> date:
    """Keep the start's day, clamped to the month's end (Jan 31 + 1 month: Feb 28 or 29)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def occurrence(start: date, frequency: str, interval: int, k: int) -> date:
    """The date of occurrence k (k = 0 is the start date itself)."""
    if frequency == "DAILY":
        return start + timedelta(days=k * interval)
    if frequency == "WEEKLY":
        return start + timedelta(weeks=k * interval)
    return add_months(start, k * interval * _MONTHS[frequency])
