"""The audit entry's and the feed event's ids, and times, are the same text as the
slower way made them: rows written before and after the change agree, and text order
stays time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid5

from hypothesis import given
from hypothesis import strategies as st

from projections.audit_view import ENTRY_NAMESPACE, entry_id
from projections.events_feed import EVENT_NAMESPACE, event_id
from projections.stored_time import timestamp

zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
moments = st.datetimes(min_value=datetime(1000, 1, 2), timezones=zones)


@given(moments)
def test_timestamps_are_the_strftime_text(moment: datetime) -> None:
    assert timestamp(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(moments, moments)
def test_timestamp_text_sorts_as_time(a: datetime, b: datetime) -> None:
    assert (timestamp(a) < timestamp(b)) == (a < b)


@given(st.uuids().map(str) | st.text(max_size=40), st.integers(0, 10**9))
def test_entry_ids_are_the_uuid5_of_entity_and_version(entity: str, version: int) -> None:
    assert entry_id(entity, version) == str(uuid5(ENTRY_NAMESPACE, f"{entity}:{version}"))


@given(st.uuids().map(str) | st.text(max_size=40), st.integers(1, 10**9))
def test_feed_event_ids_are_the_uuid5_of_entity_and_version(entity: str, version: int) -> None:
    assert event_id(entity, version) == str(uuid5(EVENT_NAMESPACE, f"{entity}:{version}"))
