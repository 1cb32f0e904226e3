"""Rules for an account's name and the seller details printed on its invoices."""

from __future__ import annotations

import re
from typing import Any

# Domain field name -> the most characters it may hold.
PROFILE_LIMITS: dict[str, int] = {
    "name": 200,
    "business_name": 200,
    "address_line1": 200,
    "address_line2": 200,
    "city": 100,
    "postcode": 20,
    "country": 100,
    "email": 254,
    "phone": 50,
    "tax_number": 50,
    "payment_instructions": 2000,
    "invoice_prefix": 10,
}
MULTILINE = {"payment_instructions"}
PREFIX = re.compile(r"^[A-Za-z0-9]{1,10}$")
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def profile_problems(changes: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with `changes` (domain names; None clears a field), by field."""
    problems: dict[str, list[str]] = {}
    for name, value in changes.items():
        limit = PROFILE_LIMITS.get(name)
        if limit is None:
            problems[name] = ["Unknown field"]
        elif value is None:
            if name == "name":
                problems[name] = ["Cannot be cleared"]
        elif not isinstance(value, str):
            problems[name] = ["Must be text"]
        else:
            message = _text_problem(name, value, limit)
            if message:
                problems[name] = [message]
    return problems


def _text_problem(name: str, value: str, limit: int) -> str | None:
    if name == "name" and not value.strip():
        return "Cannot be empty"
    if len(value) > limit:
        return f"Must be at most {limit} characters"
    if _CONTROL.search(value) or ("\n" in value and name not in MULTILINE):
        return "Must not contain control characters"
    if name == "invoice_prefix" and not PREFIX.match(value):
        return "Must be 1 to 10 letters or digits"
    if name == "email" and not EMAIL_SHAPE.match(value):
        return "Must be a valid email address"
    return None


def name_problem(value: str, limit: int = 100) -> str | None:
    """What is wrong with a short one-line name (an API key's, an account's), if anything."""
    if not value.strip():
        return "Cannot be empty"
    if len(value) > limit:
        return f"Must be at most {limit} characters"
    if _CONTROL.search(value) or "\n" in value:
        return "Must not contain control characters"
    return None
