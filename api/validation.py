"""Strict request validation that reports every bad field by its path."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from email_validator import EmailNotValidError, validate_email

from domain import money
from domain.errors import InvalidInput

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

# The dates a request may carry: wide enough for any real invoice, narrow enough that
# date arithmetic (dueDate = issueDate + terms, schedules) never leaves the calendar.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z"
)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# Control characters (tab and line breaks aside) and lone surrogates: PostgreSQL text
# cannot hold NUL, and a surrogate cannot be encoded as UTF-8 at all.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_NAN = Decimal("NaN")


def _number(text: str) -> Decimal:
    """A JSON number as an exact Decimal; one Decimal cannot hold becomes NaN (refused)."""
    try:
        return Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal can represent
        return _NAN


_DECODER = msgspec.json.Decoder(float_hook=_number)


def decode_json(body: bytes) -> Any:
    """Decode JSON with every number as an exact Decimal (never a binary float)."""
    try:
        return _DECODER.decode(body)
    except UnicodeDecodeError:
        raise InvalidInput("Malformed JSON", {"body": ["Must be UTF-8 encoded JSON"]}) from None
    except RecursionError:
        raise InvalidInput("Malformed JSON", {"body": ["JSON is nested too deeply"]}) from None
    except msgspec.DecodeError as error:
        raise InvalidInput("Malformed JSON", {"body": [f"Malformed JSON: {error}"]}) from None


def has_forbidden_characters(value: str) -> bool:
    """True if the text holds a control character (other than tab, CR, LF) or a surrogate."""
    return _FORBIDDEN.search(value) is not None


def label(name: str) -> str:
    words = _CAMEL.sub(" ", name).lower()
    return words[:1].upper() + words[1:]


def parse_date(value: Any) -> date | None:
    """`YYYY-MM-DD`, or an RFC 3339 date-time reduced to its UTC date; else None."""
    if not isinstance(value, str):
        return None
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
        if _DATETIME.match(value):
            parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
            return parsed.astimezone(UTC).date()
    except (ValueError, OverflowError):  # 9999-12-31T23:00-02:00 is past year 9999 in UTC
        return None
    return None


class Reader:
    """Reads the fields of one JSON object, collecting errors under their paths."""

    def __init__(self, data: Any, errors: dict[str, list[str]] | None = None, path: str = ""):
        self.errors: dict[str, list[str]] = {} if errors is None else errors
        self.path = path
        if isinstance(data, dict):
            self.data: dict[str, Any] = data
        else:
            self.data = {}
            self.fail_at(path.rstrip(".") or "body", "Must be a JSON object")

    # Bookkeeping

    def fail(self, name: str, message: str) -> None:
        self.fail_at(self.path + name, message)

    def fail_at(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def only(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for name in self.data:
            if name not in allowed:
                self.fail(name, "Unknown field")

    def check(self) -> None:
        if self.errors:
            raise InvalidInput("Validation failed", self.errors)

    def _get(self, name: str, required: bool, nullable: bool) -> Any:
        """The raw value, MISSING when absent, None for an allowed null."""
        if name not in self.data:
            if required:
                self.fail(name, f"{label(name)} is required")
            return MISSING
        value = self.data[name]
        if value is None:
            if required or not nullable:
                self.fail(name, f"{label(name)} cannot be null")
                return MISSING
            return None
        return value

    # Field types

    def string(
        self, name: str, *, required: bool = False, nullable: bool = True, max_len: int = 1000
    ) -> Any:
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        if not isinstance(value, str):
            self.fail(name, "Must be a string")
            return MISSING
        value = value.strip()
        if not value:
            if required or not nullable:
                self.fail(name, f"{label(name)} is required")
                return MISSING
            return None
        if len(value) > max_len:
            self.fail(name, f"Must be at most {max_len} characters")
            return MISSING
        if has_forbidden_characters(value):
            self.fail(name, "Must not contain control characters (such as NUL)")
            return MISSING
        return value

    def email(self, name: str, *, required: bool = False, nullable: bool = True) -> Any:
        value = self.string(name, required=required, nullable=nullable, max_len=254)
        if not isinstance(value, str):
            return value
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            self.fail(name, f"Must be a valid email address ({error})")
            return MISSING

    def decimal(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        minimum: Decimal | None = None,
        exclusive_minimum: Decimal | None = None,
        maximum: Decimal = Decimal("1000000000000"),
        places: int = 4,
    ) -> Any:
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            self.fail(name, "Must be a number")
            return MISSING
        try:
            return money.parse(
                value,
                places=places,
                maximum=maximum,
                minimum=minimum,
                exclusive_minimum=exclusive_minimum,
            )
        except money.InvalidAmount as error:
            self.fail(name, error.message)
            return MISSING

    def integer(self, name: str, *, required: bool = False, lo: int, hi: int) -> Any:
        value = self._get(name, required, nullable=False)
        if value is MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "Must be a whole number")
            return MISSING
        if not lo <= value <= hi:
            self.fail(name, f"Must be between {lo} and {hi}")
            return MISSING
        return value

    def boolean(self, name: str, *, required: bool = False) -> Any:
        value = self._get(name, required, nullable=False)
        if value is not MISSING and not isinstance(value, bool):
            self.fail(name, "Must be true or false")
            return MISSING
        return value

    def date(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        earliest: date = MIN_DATE,
        latest: date = MAX_DATE,
    ) -> Any:
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        parsed = parse_date(value)
        if parsed is None:
            self.fail(name, "Must be a date (YYYY-MM-DD) or an RFC 3339 date-time")
            return MISSING
        if not earliest <= parsed <= latest:
            self.fail(name, f"Must be between {earliest} and {latest}")
            return MISSING
        return parsed

    def uuid(self, name: str, *, required: bool = False) -> Any:
        value = self._get(name, required, nullable=False)
        if value is MISSING:
            return value
        parsed = parse_uuid(value)
        if parsed is None:
            self.fail(name, "Must be a UUID")
            return MISSING
        return parsed

    def choice(self, name: str, choices: Iterable[str], *, required: bool = False) -> Any:
        choices = tuple(choices)
        value = self._get(name, required, nullable=False)
        if value is MISSING:
            return value
        if value not in choices:
            self.fail(name, f"Must be one of {', '.join(choices)}")
            return MISSING
        return value

    def currency(self, name: str, *, required: bool = False) -> Any:
        value = self._get(name, required, nullable=False)
        if value is MISSING:
            return value
        if not isinstance(value, str) or not money.is_currency(value):
            self.fail(name, "Must be an ISO 4217 currency code, such as GBP")
            return MISSING
        return value

    def items(
        self,
        name: str,
        read_item: Callable[[Reader], T],
        *,
        required: bool = False,
        lo: int = 0,
        hi: int = 500,
    ) -> Any:
        value = self._get(name, required, nullable=False)
        if value is MISSING:
            return value
        if not isinstance(value, list):
            self.fail(name, "Must be a list")
            return MISSING
        if not lo <= len(value) <= hi:
            self.fail(name, f"Must have between {lo} and {hi} items")
            return MISSING
        before = len(self.errors)
        result = [
            read_item(Reader(item, self.errors, f"{self.path}{name}.{index}."))
            for index, item in enumerate(value)
        ]
        return MISSING if len(self.errors) > before else result


def parse_uuid(value: Any) -> UUID | None:
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def present(values: dict[str, Any]) -> dict[str, Any]:
    """The fields that were sent (MISSING ones left out)."""
    return {k: v for k, v in values.items() if v is not MISSING}
