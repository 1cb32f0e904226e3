"""Field types of the contract: each one decides what is accepted and how the document shows it."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import ParameterKwarg
from msgspec import Meta

from domain import money

# Every pattern reads the same in Python's `re` and in ECMA-262, the document's dialect:
# explicit ranges ([0-9], never \d, which Python widens to every script's digits) and
# \x / \u escapes.
CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
# What str.strip() removes, less the control characters refused anyway.
LINE_BLANKS = r"\t \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
BLANKS = r"\n\r" + LINE_BLANKS
BLANK_CHARACTERS = (
    "\t\n\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)

TEXT = f"^[^{CONTROLS}]*$"
PRESENT = f"^[{BLANKS}]*[^{CONTROLS}{BLANKS}][^{CONTROLS}]*$"
# The same on one line (an account's name is printed on invoices).
LINE_PRESENT = f"^[{LINE_BLANKS}]*[^{CONTROLS}{BLANKS}][^{CONTROLS}\\r\\n]*$"
ONE_LINE = f"^[^{CONTROLS}\\r\\n]*$"
# Line breaks, but no carriage returns (an account's payment instructions).
LINES = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
# What the account profile takes as an email (domain/profile.py): a dot after the @.
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
QUERY_TEXT = r"^[^\x00-\x1f\x7f]*$"
PREFIX = r"^[A-Za-z0-9]{1,10}$"
UUID_TEXT = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
IDEMPOTENCY_KEY = r"^[!-~](?:[ -~]{0,253}[!-~])?$"

_DATE = r"(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_TIME = rf"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,9}})?{_OFFSET}"
# The dates a request may carry: wide enough for any real invoice, narrow enough that
# date arithmetic (dueDate = issueDate + terms, schedules) never leaves the calendar.
DAY_TEXT = f"^{_DATE}(?:{_TIME})?$"
MOMENT_TEXT = f"^{_DATE}{_TIME}$"  # an RFC 3339 date-time

CONTROL_MESSAGE = "Must not contain control characters (such as NUL)"
DAY_MESSAGE = "Must be a date (YYYY-MM-DD) or an RFC 3339 date-time, from 2000-01-01 to 2100-12-31"
PATTERN_MESSAGES = {
    TEXT: CONTROL_MESSAGE,
    QUERY_TEXT: CONTROL_MESSAGE,
    ONE_LINE: "Must be one line without control characters",
    LINES: CONTROL_MESSAGE,
    PREFIX: "Must be 1 to 10 letters or digits",
    UUID_TEXT: "Must be a UUID",
    DAY_TEXT: DAY_MESSAGE,
    IDEMPOTENCY_KEY: "Must be 1 to 255 printable ASCII characters",
}


def pattern_message(pattern: str, value: object) -> str:
    """The human reading of a failed pattern, for the value that failed it."""
    if pattern in (PRESENT, LINE_PRESENT):
        if isinstance(value, str) and re.search(f"[{CONTROLS}]", value):
            return CONTROL_MESSAGE
        if pattern == LINE_PRESENT and isinstance(value, str) and re.search("[\r\n]", value):
            return "Must be one line"
        return "Must not be blank"
    return PATTERN_MESSAGES.get(pattern, "Has the wrong format")


def strip(value: str) -> str:
    return value.strip(BLANK_CHARACTERS)


class Rule(ParameterKwarg):
    """A field the body reader converts itself (msgspec alone would be too lenient),
    declared for the document through the same object. Compared by identity: a
    declaration may carry a schema fragment (a dict), and type unions hash their members."""

    def read(self, raw: Any) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True, eq=False)
class Number(Rule):
    """A JSON number read as an exact Decimal (never a binary float, never a string)."""

    def read(self, raw: Any) -> Decimal:
        if isinstance(raw, bool) or not isinstance(raw, (int, Decimal)):
            raise ValueError("Must be a number")
        step = Decimal(str(self.multiple_of or "0.0001"))
        try:
            return money.parse(
                raw,
                places=max(0, -int(step.as_tuple().exponent)),
                maximum=Decimal(str(self.le)),
                minimum=None if self.ge is None else Decimal(str(self.ge)),
                exclusive_minimum=None if self.gt is None else Decimal(str(self.gt)),
            )
        except money.InvalidAmount as error:
            raise ValueError(error.message) from None


@dataclass(frozen=True, eq=False)
class Whole(Rule):
    """A JSON integer within bounds (1.0 and 1e2 are integers too, as JSON Schema says)."""

    def read(self, raw: Any) -> int:
        if isinstance(raw, Decimal) and raw.is_finite() and raw.adjusted() < 40:
            raw = int(raw) if raw == raw.to_integral_value() else raw
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("Must be a whole number")
        if self.ge is not None and raw < self.ge:
            raise ValueError(f"Must be at least {int(self.ge)}")
        if self.le is not None and raw > self.le:
            raise ValueError(f"Must be at most {int(self.le)}")
        return raw


@dataclass(frozen=True, eq=False)
class Day(Rule):
    """`YYYY-MM-DD` or an RFC 3339 date-time, reduced to its UTC date."""

    def read(self, raw: Any) -> date:
        if not isinstance(raw, str):
            raise ValueError("Must be a string")
        day = parse_day(raw)
        if day is None:
            raise ValueError(DAY_MESSAGE)
        return day


@dataclass(frozen=True, eq=False)
class Id(Rule):
    """A UUID in its canonical 36-character form."""

    def read(self, raw: Any) -> UUID:
        if not isinstance(raw, str):
            raise ValueError("Must be a string")
        if not re.match(UUID_TEXT, raw) or len(raw) != 36:
            raise ValueError("Must be a UUID")
        return UUID(raw)


@dataclass(frozen=True, eq=False)
class Email(Rule):
    """One email address, returned normalised."""

    def read(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValueError("Must be a string")
        if len(raw) > (self.max_length or 254):
            raise ValueError(f"Must be at most {self.max_length} characters")
        if re.search(f"[{CONTROLS}]", raw):
            raise ValueError(CONTROL_MESSAGE)
        if self.pattern and not re.fullmatch(self.pattern, raw):
            raise ValueError("Must be a valid email address")
        try:  # any address the document's `format: email` allows: syntax, not reachability
            checked = validate_email(
                raw,
                check_deliverability=False,
                globally_deliverable=False,
                test_environment=True,
                allow_smtputf8=False,
            )
            return checked.normalized
        except EmailNotValidError as error:
            raise ValueError(f"Must be a valid email address ({error})") from None


def parse_day(value: str) -> date | None:
    """The UTC date of a DAY_TEXT value; None if it is not one (or not in the calendar)."""
    if not re.match(DAY_TEXT, value) or "\n" in value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return parse_moment(value).date()
    except ValueError:  # 2026-02-30 matches the pattern but is no date
        return None


def parse_moment(value: str) -> datetime:
    """A DAY_TEXT date-time as an aware UTC datetime (fractions beyond microseconds cut)."""
    head, dot, rest = value.upper().partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:digits][:6].ljust(6, "0") + rest[digits:]
        value = f"{head}.{rest}"
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)


# The document's view of these types.
QUANTITY = Number(gt=0, le=1_000_000, multiple_of=0.0001)
UNIT_PRICE = Number(ge=0, le=1_000_000_000, multiple_of=0.0001)
TAX_RATE = Number(ge=0, le=100, multiple_of=0.0001)
AMOUNT = Number(gt=0, le=1_000_000_000_000, multiple_of=0.0001)
# Either form, and a real calendar day (2026-02-30 fits the pattern but is no date).
DAY_FORMATS = {"any_of": [{"format": "date"}, {"format": "date-time"}]}
DAY = Day(schema_extra={"type": "string", "format": None, "pattern": DAY_TEXT, **DAY_FORMATS})
ID = Id()
EMAIL = Email(max_length=254, pattern=EMAIL_SHAPE, format=OpenAPIFormat.EMAIL)

Quantity = Annotated[Decimal, QUANTITY]
UnitPrice = Annotated[Decimal, UNIT_PRICE]
TaxRate = Annotated[Decimal, TAX_RATE]
Amount = Annotated[Decimal, AMOUNT]
DayIn = Annotated[date, DAY]
IdIn = Annotated[UUID, ID]
EmailIn = Annotated[str, EMAIL]
Prefix = Annotated[str, Meta(pattern=PREFIX)]
Interval = Annotated[int, Whole(ge=1, le=365)]
TermsDays = Annotated[int, Whole(ge=0, le=365)]
MaxOccurrences = Annotated[int, Whole(ge=1, le=100_000)]

# Responses: money as JSON numbers, ids and times with their formats. (Litestar reads a
# field's constraints and format from a ParameterKwarg in its annotation.)
Money = Annotated[Decimal, ParameterKwarg(ge=0)]
Rate = Annotated[Decimal, ParameterKwarg(ge=0, le=100)]
IdOut = Annotated[str, ParameterKwarg(format=OpenAPIFormat.UUID)]
Timestamp = Annotated[str, ParameterKwarg(format=OpenAPIFormat.DATE_TIME)]
EmailOut = Annotated[str, ParameterKwarg(format=OpenAPIFormat.EMAIL)]

Currency = enum.StrEnum(  # type: ignore[misc]
    "Currency", {code: code for code in sorted(money.MINOR_UNITS)}
)
Currency.__doc__ = "An ISO 4217 currency code"
