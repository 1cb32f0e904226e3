"""The text of a moment as the views store it (audit entries, the events feed, webhook
attempts) and as their filters compare it."""

from __future__ import annotations

from datetime import UTC, date, datetime


def timestamp(value: datetime) -> str:
    """UTC to the microsecond, fixed width, so that text order is time order: the text
    `strftime("%Y-%m-%dT%H:%M:%S.%fZ")` gives. Formatted from the fields, which takes
    about half the time of `isoformat` and slicing (a rebuild formats a few per event)."""
    return _formatted(value, _MICROSECONDS, 1)


def milliseconds(value: datetime) -> str:
    """UTC to the millisecond, as the API returns moments: `2026-02-10T09:30:00.000Z`."""
    return _formatted(value, _MILLISECONDS, 1000)


_MICROSECONDS = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
_MILLISECONDS = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ"


def _formatted(value: datetime, pattern: str, unit: int) -> str:
    """`value` in UTC, its fraction of a second in `unit`s of a microsecond."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return pattern % (
        value.year, value.month, value.day,
        value.hour, value.minute, value.second, value.microsecond // unit,
    )  # fmt: skip


def day(value: date) -> str:
    """A date as midnight UTC: `2026-02-10T00:00:00Z`."""
    return f"{value.isoformat()}T00:00:00Z"
