"""Taking an invoice's payments out of a feed body and putting them back gives the same
bytes, whatever its texts hold (quotes, the key's own name, the mark, any character)."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from projections import feed_payments, invoice_payments

PIECES = st.text(st.characters(blacklist_categories=("Cs",))) | st.sampled_from(
    ['"payments":[', '"payments":[]', "~", "]", '\\"']
)
TEXT = st.lists(PIECES, max_size=4).map("".join)


def document(notes: str, references: list[str]) -> bytes:
    """An invoice document's layout: texts before the payments, and after them."""
    return msgspec.json.encode(
        {
            "id": "inv",
            "notes": notes,
            "lineItems": [{"description": notes}],
            "payments": [{"amount": 1.0, "reference": r} for r in references],
            "emails": [{"subject": notes}],
            "isOverdue": False,
        }
    )


def body(doc: bytes, actor: str) -> bytes:
    object_ = {"object": msgspec.Raw(doc)}
    return msgspec.json.encode({"id": "e", "data": object_, "actor": {"name": actor}})


@given(TEXT, st.lists(TEXT, min_size=feed_payments.MANY, max_size=40), TEXT)
def test_a_body_is_given_back_byte_for_byte(notes: str, references: list[str], actor: str) -> None:
    whole = document(notes, references)
    elided = feed_payments.elide(whole, len(references))
    assert elided is not None
    assert invoice_payments.document_items(elided.document) == []
    stored = feed_payments.marked(body(elided.document, actor), elided, 7, "inv")
    mark = feed_payments.parse(stored)
    assert mark is not None and (mark.count, mark.version) == (len(references), 7)
    back = feed_payments.splice(mark, invoice_payments.document_items(whole))
    assert back == body(whole, actor)


@given(TEXT, st.lists(TEXT, max_size=feed_payments.MANY - 1))
def test_fewer_payments_are_kept_in_the_body(notes: str, references: list[str]) -> None:
    assert feed_payments.elide(document(notes, references), len(references)) is None
    assert feed_payments.parse(body(document(notes, references), notes).decode()) is None
