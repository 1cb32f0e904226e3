"""Request bodies: each Struct both decides what is accepted and generates the document."""

from __future__ import annotations

import functools
import typing
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.fields import (
    LINE_PRESENT,
    LINES,
    ONE_LINE,
    PRESENT,
    TEXT,
    Amount,
    Currency,
    DayIn,
    EmailIn,
    IdIn,
    Interval,
    MaxOccurrences,
    Prefix,
    Quantity,
    TaxRate,
    TermsDays,
    UnitPrice,
    strip,
)

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=PRESENT)]
AccountName = Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE_PRESENT)]
Description = Annotated[str, Meta(min_length=1, max_length=500, pattern=PRESENT)]
Text20 = Annotated[str, Meta(max_length=20, pattern=TEXT)]
Text50 = Annotated[str, Meta(max_length=50, pattern=TEXT)]
Text100 = Annotated[str, Meta(max_length=100, pattern=TEXT)]
Text200 = Annotated[str, Meta(max_length=200, pattern=TEXT)]
Text5000 = Annotated[str, Meta(max_length=5000, pattern=TEXT)]
Text10000 = Annotated[str, Meta(max_length=10000, pattern=TEXT)]
Subject = Annotated[str, Meta(max_length=200, pattern=ONE_LINE)]
# The seller details are printed on one line each (domain/profile.py), bar the instructions.
Line20 = Annotated[str, Meta(max_length=20, pattern=ONE_LINE)]
Line50 = Annotated[str, Meta(max_length=50, pattern=ONE_LINE)]
Line100 = Annotated[str, Meta(max_length=100, pattern=ONE_LINE)]
Line200 = Annotated[str, Meta(max_length=200, pattern=ONE_LINE)]
Instructions = Annotated[str, Meta(max_length=2000, pattern=LINES)]
Frequency = Literal["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY"]


@functools.cache
def _nullable(model: type[msgspec.Struct]) -> frozenset[str]:
    """The fields of a body that accept null."""
    return frozenset(
        f.name for f in msgspec.structs.fields(model) if type(None) in typing.get_args(f.type)
    )


class Body(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """A JSON object with exactly the declared fields; text arrives without surrounding
    blanks, and optional text that is only blanks arrives as null."""

    def __post_init__(self) -> None:
        nullable = _nullable(type(self))
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, str):
                stripped = strip(value)
                setattr(self, name, stripped or (None if name in nullable else stripped))

    def present(self) -> dict[str, Any]:
        """The fields that were sent, by their Python names."""
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if getattr(self, name) is not UNSET
        }


class ClientCreate(Body):
    name: Name
    company: Text200 | None = None
    email: EmailIn | None = None
    phone: Text50 | None = None
    address_line1: Text200 | None = None
    address_line2: Text200 | None = None
    city: Text100 | None = None
    county: Text100 | None = None
    postcode: Text20 | None = None
    country: Text100 | None = None
    tax_number: Text50 | None = None
    notes: Text5000 | None = None


class ClientUpdate(Body):
    """Only the fields sent change; null clears an optional field."""

    name: Name | UnsetType = UNSET
    company: Text200 | UnsetType | None = UNSET
    email: EmailIn | UnsetType | None = UNSET
    phone: Text50 | UnsetType | None = UNSET
    address_line1: Text200 | UnsetType | None = UNSET
    address_line2: Text200 | UnsetType | None = UNSET
    city: Text100 | UnsetType | None = UNSET
    county: Text100 | UnsetType | None = UNSET
    postcode: Text20 | UnsetType | None = UNSET
    country: Text100 | UnsetType | None = UNSET
    tax_number: Text50 | UnsetType | None = UNSET
    notes: Text5000 | UnsetType | None = UNSET


class LineItemIn(Body):
    description: Description
    quantity: Quantity
    unit_price: UnitPrice


Lines = Annotated[list[LineItemIn], Meta(min_length=1, max_length=500)]


class InvoiceCreate(Body):
    """Absent dates take their defaults: today, and 14 days after the issue date."""

    client_id: IdIn
    line_items: Lines
    issue_date: DayIn | UnsetType = UNSET
    due_date: DayIn | UnsetType = UNSET
    currency: Currency = Currency.GBP  # type: ignore[attr-defined]
    tax_name: Text50 | None = None
    tax_rate: TaxRate | UnsetType = UNSET
    notes: Text5000 | None = None
    status: Literal["DRAFT", "SENT"] = "DRAFT"


class InvoiceUpdate(Body):
    """Only the fields sent change (a DRAFT only); totals are recomputed."""

    client_id: IdIn | UnsetType = UNSET
    line_items: Lines | UnsetType = UNSET
    issue_date: DayIn | UnsetType = UNSET
    due_date: DayIn | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    tax_name: Text50 | UnsetType | None = UNSET
    tax_rate: TaxRate | UnsetType = UNSET
    notes: Text5000 | UnsetType | None = UNSET


class PaymentCreate(Body):
    """`amount` defaults to the amount due, `paymentDate` to today."""

    amount: Amount | UnsetType = UNSET
    payment_date: DayIn | UnsetType = UNSET
    payment_method: Text100 | None = None
    reference: Text200 | None = None


class SendRequest(Body):
    """Defaults: the client's email, `Invoice #<number> from <account name>`, a short body."""

    to_email: EmailIn | None = None
    subject: Subject | None = None
    body: Text10000 | None = None


class NoFields(Body):
    """An action that takes no fields: send nothing, or `{}`."""


class AccountUpdate(Body):
    """The seller details printed on invoices; `id`, `plan` and `apiAccess` are not editable."""

    name: AccountName | UnsetType = UNSET
    business_name: Line200 | UnsetType | None = UNSET
    address_line1: Line200 | UnsetType | None = UNSET
    address_line2: Line200 | UnsetType | None = UNSET
    city: Line100 | UnsetType | None = UNSET
    postcode: Line20 | UnsetType | None = UNSET
    country: Line100 | UnsetType | None = UNSET
    email: EmailIn | UnsetType | None = UNSET
    phone: Line50 | UnsetType | None = UNSET
    tax_number: Line50 | UnsetType | None = UNSET
    payment_instructions: Instructions | UnsetType | None = UNSET
    invoice_prefix: Prefix | UnsetType | None = UNSET


class RecurringCreate(Body):
    """`startDate` lies within the last 366 days and the next 10 years."""

    client_id: IdIn
    frequency: Frequency
    start_date: DayIn
    line_items: Lines
    interval: Interval = 1
    end_date: DayIn | None = None
    max_occurrences: MaxOccurrences | None = None
    currency: Currency = Currency.GBP  # type: ignore[attr-defined]
    tax_name: Text50 | None = None
    tax_rate: TaxRate | UnsetType = UNSET
    notes: Text5000 | None = None
    payment_terms_days: TermsDays = 14
    auto_send: bool = False


class RecurringUpdate(Body):
    """Only the fields sent change; the schedule is fixed once invoices were generated."""

    client_id: IdIn | UnsetType = UNSET
    frequency: Frequency | UnsetType = UNSET
    interval: Interval | UnsetType = UNSET
    start_date: DayIn | UnsetType = UNSET
    end_date: DayIn | UnsetType | None = UNSET
    max_occurrences: MaxOccurrences | UnsetType | None = UNSET
    line_items: Lines | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    tax_name: Text50 | UnsetType | None = UNSET
    tax_rate: TaxRate | UnsetType = UNSET
    notes: Text5000 | UnsetType | None = UNSET
    payment_terms_days: TermsDays | UnsetType = UNSET
    auto_send: bool | UnsetType = UNSET
