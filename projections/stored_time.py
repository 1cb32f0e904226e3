"""The text of a moment as the views store it (audit entries, the events feed, webhook
attempts) and as their filters compare it."""

from __future__ import annotations

from datetime import UTC, date, datetime


def timestamp(value: datetime) -> str:
    """UTC to the microsecond, fixed width, so that text order is time order: the text
    `strftime("%Y-%m-%dT%H:%M:%S.%fZ")` gives, made without its per-call import."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def day(value: date) -> str:
    """A date as midnight UTC: `2026-02-10T00:00:00Z`."""
    return f"{value.isoformat()}T00:00:00Z"
