"""Checks of the portal's HTML form fields, collected per field like the API's details."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Form:
    """Reads text fields of a submitted form and keeps what was wrong with each."""

    def __init__(self, data: dict[str, object]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str, label: str, max_len: int) -> str:
        value = str(self.data.get(name) or "").strip()
        if not value:
            self.fail(name, f"{label} is required")
        elif len(value) > max_len:
            self.fail(name, f"Must be at most {max_len} characters")
        elif _CONTROL.search(value) or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            self.fail(name, "Must not contain control characters (such as NUL)")
        return value

    def email(self, name: str) -> str:
        value = self.text(name, "Email", 254)
        if name in self.errors:
            return value
        try:
            return str(validate_email(value, check_deliverability=False).normalized)
        except EmailNotValidError as error:
            self.fail(name, f"Must be a valid email address ({error})")
            return value
