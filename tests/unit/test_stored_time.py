"""Moments as the views store them and the API returns them: formatted from the fields,
equal to the text `isoformat` gave before, whatever the offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from api.render import timestamp as api_timestamp
from projections.stored_time import milliseconds, timestamp

OFFSETS = st.one_of(
    st.none(),  # naive: taken as local time, as `astimezone` takes it
    st.just(UTC),
    st.timedeltas(
        min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
    ).map(timezone),
)
# Away from the ends of the calendar, where moving to UTC leaves it.
MOMENTS = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=OFFSETS
)


@given(MOMENTS)
def test_a_stored_moment_is_the_isoformat_text_in_utc(value: datetime) -> None:
    expected = value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    assert timestamp(value) == expected
    assert len(expected) == 27  # fixed width: text order is time order


@given(MOMENTS)
def test_an_api_moment_is_the_isoformat_text_in_utc_to_the_millisecond(value: datetime) -> None:
    expected = value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert milliseconds(value) == api_timestamp(value) == expected


def test_the_known_forms() -> None:
    moment = datetime(2026, 2, 10, 9, 30, 0, 120, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(moment) == "2026-02-10T07:30:00.000120Z"
    assert milliseconds(moment) == "2026-02-10T07:30:00.000Z"
    assert timestamp(datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=UTC)) == "0987-06-05T04:03:02.000001Z"
