"""Stored events decode exactly as eventsourcing's own transcoder decodes them."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from application import transcodings
from application.transcodings import EventTranscoder, uuid_from_hex
from domain.values import Email, LineItem, Payment
from projections.collection import bulk_collection


def transcoders() -> tuple[JSONTranscoder, EventTranscoder]:
    """The library's transcoder and ours, with the application's transcodings."""
    library, ours = JSONTranscoder(), EventTranscoder()
    for transcoder in (library, ours):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)  # the application's base set
        transcodings.register(transcoder)
    return library, ours


texts = st.text(max_size=20)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4)
times = st.datetimes(timezones=st.just(UTC))
payments = st.builds(
    Payment, st.uuids(), decimals, st.dates(), st.none() | texts, st.none() | texts, times
)
emails = st.builds(
    Email, st.uuids(), texts, texts, texts, texts, texts, st.integers(0, 9), st.none() | times
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | texts
    | st.uuids()
    | decimals
    | times
    | st.dates()
    | st.builds(LineItem, texts, decimals, decimals)
    | payments
    | emails,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=10), values, max_size=6))
def test_every_stored_value_decodes_as_the_library_decodes_it(state: dict[str, Any]) -> None:
    library, ours = transcoders()
    stored = library.encode(state)
    assert ours.encode(state) == stored  # the stored form is the library's
    assert ours.decode(stored) == library.decode(stored)


def test_what_the_fast_parser_refuses_decodes_as_the_library_decodes_it() -> None:
    library, ours = transcoders()
    for stored in (
        b'{"x":NaN,"y":{"_type_":"decimal_str","_data_":"1.50"}}',
        b'{"x":Infinity,"y":-Infinity}',
        b'{"lone":"\\ud800","y":{"_type_":"uuid_hex","_data_":"' + b"a" * 32 + b'"}}',
        b'{"big":1e400}',
    ):
        expected, got = library.decode(stored), ours.decode(stored)
        assert repr(got) == repr(expected)  # NaN is not equal to itself
    with pytest.raises(ValueError):
        ours.decode(b'{"x":')  # not JSON: refused, as the library refuses it


# 32 characters: hex digits, and the few others UUID's own parsing strips or int() takes
UUID_TEXTS = st.text(alphabet="0123456789abcdefABCDEF-{}+ _:urnix", min_size=32, max_size=32)


@settings(max_examples=500)
@given(st.one_of(UUID_TEXTS, st.uuids().map(lambda u: u.hex), st.text(max_size=40)))
@example("-" + "a" * 31)  # int() reads a sign; UUID strips dashes first
@example("{" + "a" * 30 + "}")
def test_an_id_is_read_as_uuid_reads_it(text: str) -> None:
    try:
        expected: UUID | type[ValueError] = UUID(text)
    except ValueError:
        expected = ValueError
    try:
        got: UUID | type[ValueError] = uuid_from_hex(text)
    except ValueError:
        got = ValueError
    assert got == expected
    if isinstance(got, UUID) and isinstance(expected, UUID):
        assert (got.int, got.is_safe, hash(got), str(got)) == (
            expected.int,
            expected.is_safe,
            hash(expected),
            str(expected),
        )


def test_values_come_back_as_their_own_types() -> None:
    _, ours = transcoders()
    ident = UUID("6f1c1d9e-0d5e-4a7b-9a51-2c2f1e0b7a10")
    at = datetime(2026, 2, 10, 9, 30, tzinfo=UTC)
    state = {"id": ident, "amount": Decimal("900.00"), "at": at, "day": date(2026, 2, 10)}
    back = ours.decode(ours.encode(state))
    assert back == state
    assert [type(v) for v in back.values()] == [UUID, Decimal, datetime, date]
    assert str(back["amount"]) == "900.00"  # exact, trailing zeros kept


def test_a_tag_nobody_registered_is_refused_as_the_library_refuses_it() -> None:
    library, ours = transcoders()
    stored = b'{"x":{"_type_":"unheard_of","_data_":"1"}}'
    for transcoder in (library, ours):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.decode(stored)


def test_an_ordinary_two_key_object_stays_an_object() -> None:
    library, ours = transcoders()
    stored = b'{"a":{"_data_":1,"other":2},"b":{"_type_":"x","y":1}}'
    assert (
        ours.decode(stored)
        == library.decode(stored)
        == {
            "a": {"_data_": 1, "other": 2},
            "b": {"_type_": "x", "y": 1},
        }
    )


def test_the_rebuild_collector_settings_are_restored_even_after_a_failure() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_collection():
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() > 0
        raise RuntimeError("a failed batch")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
