"""The contract's wording of a failed constraint: what the client reads in `details`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from api.fields import pattern_message

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_EXPECTED = re.compile(r"Expected `([^`]+)`(?:, got `([^`]+)`)?(.*)", re.DOTALL)
_BOUND = re.compile(r" (>=|>|<=|<) (-?[0-9.eE+]+)$")
_LENGTH = re.compile(r" of length (>=|<=) ([0-9]+)$")
_REGEX = re.compile(r" matching regex '(.*)'$", re.DOTALL)
_KINDS = {
    "str": "a string",
    "int": "a whole number",
    "bool": "true or false",
    "array": "a list",
    "object": "a JSON object",
    "float": "a number",
    "decimal": "a number",
}
_BOUND_WORDS = {">=": "at least", ">": "greater than", "<=": "at most", "<": "less than"}


def label(name: str) -> str:
    words = _CAMEL.sub(" ", name).lower()
    return words[:1].upper() + words[1:]


def humane(message: str, name: str = "", value: Any = None, choices: Sequence[str] = ()) -> str:
    """msgspec's wording of a failed constraint, as the contract's error details say it."""
    message = message.split(" - at `", 1)[0]
    match = _EXPECTED.fullmatch(message)
    if match is None:
        if message.startswith("Invalid enum value"):
            return f"Must be one of {', '.join(choices)}" if choices else "Must be a listed value"
        if message == "Invalid UUID":
            return "Must be a UUID"
        return message
    expected, got, rest = match.groups()
    if got == "null":
        return f"{label(name) or 'Value'} cannot be null"
    if got is not None:
        kinds = [_KINDS.get(kind.strip(), kind.strip()) for kind in expected.split("|")]
        kinds = [kind for kind in kinds if kind != "null"]
        nullable = " or null" if "null" in expected else ""
        return f"Must be {' or '.join(kinds)}{nullable}"
    if regex := _REGEX.fullmatch(rest):
        return pattern_message(regex.group(1), value)
    if length := _LENGTH.fullmatch(rest):
        bound, size = length.group(1), int(length.group(2))
        unit = "characters" if expected.startswith("str") else "items"
        if bound == ">=" and size == 1:
            return "Must not be empty"
        return f"Must have {'at least' if bound == '>=' else 'at most'} {size} {unit}"
    if bound_match := _BOUND.fullmatch(rest):
        return f"Must be {_BOUND_WORDS[bound_match.group(1)]} {bound_match.group(2)}"
    return message
