"""The save script's own literals are psycopg's, byte for byte."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from psycopg import ClientCursor

from infrastructure.literals import literal, literals
from infrastructure.settings import Settings

VALUES = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",))),  # quotes, backslashes, NUL
    st.text(st.sampled_from("'\\\x00aé☃ \n")),  # mostly the characters that are escaped
    st.binary(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.uuids(),
    st.none(),
)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_each_value_is_written_as_psycopg_writes_it_or_left_to_it(settings: Settings) -> None:
    with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
        quoting = ClientCursor(conn)

        @examples(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(VALUES)
        def same(value: Any) -> None:
            written = literal(value)
            if isinstance(value, str) and "\x00" in value:
                assert written is None  # psycopg refuses it, as PostgreSQL would
                with pytest.raises(psycopg.DataError):
                    quoting.mogrify("%s", [value])
            else:
                assert written == quoting.mogrify("%s", [value])
                # And the server reads back the very value.
                assert conn.execute(f"SELECT {written}").fetchone() == (value,)

        same()


def test_other_types_are_left_to_psycopg() -> None:
    for value in (True, Decimal("1.5"), 1.5, "nul\x00"):
        assert literal(value) is None
    assert literals(["a", 1, None]) == ["'a'", "1", "NULL"]
    assert literals(["a", Decimal(1)]) is None
    assert literal(UUID(int=1)) == "'00000000000000000000000000000001'::uuid"
