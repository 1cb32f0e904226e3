"""Request bodies: exact JSON numbers, read strictly into the declared Struct, errors by path."""

from __future__ import annotations

import enum
import functools
import re
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException

from api.errors import ApiError, invalid
from api.fields import Rule, pattern_message
from api.wording import humane, label

_MISSING: Any = object()


def _number(text: str) -> Decimal:
    """A JSON number as an exact Decimal; one Decimal cannot hold becomes NaN (refused)."""
    try:
        return Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal can represent
        return Decimal("NaN")


_DECODER = msgspec.json.Decoder(float_hook=_number)


def decode_json(body: bytes) -> Any:
    """Decode JSON with every non-integer number as an exact Decimal."""
    try:
        return _DECODER.decode(body)
    except UnicodeDecodeError:
        problem = "Must be UTF-8 encoded JSON"
    except RecursionError:
        problem = "JSON is nested too deeply"
    except msgspec.DecodeError as error:
        problem = f"Malformed JSON: {error}"
    raise ApiError(400, "Malformed JSON", {"body": [problem]}, code="malformed_json")


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `None` and UNSET, and whether null is allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        members = [a for a in args if a not in (type(None), msgspec.UnsetType)]
        if len(members) == 1:
            return members[0], type(None) in args
    return annotation, False


def _rule_of(annotation: Any) -> Rule | None:
    for extra in getattr(annotation, "__metadata__", ()):
        if isinstance(extra, Rule):
            return extra
    return None


def _pattern_of(annotation: Any) -> str | None:
    for extra in getattr(annotation, "__metadata__", ()):
        if isinstance(extra, msgspec.Meta) and extra.pattern:
            return extra.pattern
    return None


def _struct_of(annotation: Any) -> type[msgspec.Struct] | None:
    core, _ = _unwrap(annotation)
    if isinstance(core, type) and issubclass(core, msgspec.Struct):
        return core
    return None


def _choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return []


def _whole(raw: Any) -> Any:
    """A JSON number with no fraction (1.0, 1e2) is an integer, as JSON Schema says."""
    finite = isinstance(raw, Decimal) and raw.is_finite() and raw.adjusted() < 40
    return int(raw) if finite and raw == raw.to_integral_value() else raw


@functools.cache
def _fields(
    model: type[msgspec.Struct],
) -> tuple[tuple[tuple[msgspec.structs.FieldInfo, Any, _Plan], ...], frozenset[str]]:
    """A Struct's fields with their full annotations (constraints included) and plans,
    and the names a body may use, worked out once."""
    hints = typing.get_type_hints(model, include_extras=True)
    fields = tuple((f, hints[f.name], _plan(hints[f.name])) for f in msgspec.structs.fields(model))
    return fields, frozenset(f.encode_name for f, _, _ in fields)


class Reader:
    """Walks a decoded body along a Struct, collecting every error under its path."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> Any:
        self.errors.setdefault(path or "body", []).append(message)
        return _MISSING

    def struct(self, raw: Any, model: type[msgspec.Struct], path: str) -> Any:
        if not isinstance(raw, dict):
            return self.fail(path, "Must be a JSON object")
        prefix = f"{path}." if path else ""
        fields, known = _fields(model)
        for name in raw:
            if name not in known:
                self.fail(f"{prefix}{name}", "Unknown field")
        values: dict[str, Any] = {}
        for f, annotation, plan in fields:
            if f.encode_name not in raw:
                if f.required:
                    self.fail(f"{prefix}{f.encode_name}", f"{label(f.encode_name)} is required")
                continue
            encoded = f.encode_name
            values[f.name] = self.value(raw[encoded], annotation, prefix + encoded, plan)
        if len(values) < len(raw) or any(v is _MISSING for v in values.values()):
            return _MISSING
        try:
            return model(**values)
        except (TypeError, ValueError) as error:  # a rule of the Struct's own
            return self.fail(path, str(error))

    def value(self, raw: Any, annotation: Any, path: str, plan: _Plan | None = None) -> Any:
        name = path.rsplit(".", 1)[-1]
        plan = plan or _plan(annotation)
        if raw is None:
            return None if plan.nullable else self.fail(path, f"{label(name)} cannot be null")
        if plan.rule is not None:
            try:
                return plan.rule.read(raw)
            except ValueError as error:
                return self.fail(path, str(error))
        if plan.model is not None:
            return self.struct(raw, plan.model, path)
        if plan.item is not None and isinstance(raw, list):
            try:  # the list's own constraints (length), items aside
                msgspec.convert([None] * len(raw), plan.items_unchecked, strict=True)
            except msgspec.ValidationError as error:
                return self.fail(path, humane(str(error), name, raw))
            item, item_plan = plan.item, plan.item_plan
            items = [self.value(x, item, f"{path}.{i}", item_plan) for i, x in enumerate(raw)]
            return _MISSING if any(x is _MISSING for x in items) else items
        try:
            value = msgspec.convert(_whole(raw), annotation, strict=True)
        except msgspec.ValidationError as error:
            return self.fail(path, humane(str(error), name, raw, list(plan.choices)))
        if plan.pattern and isinstance(value, str) and not re.fullmatch(plan.pattern, value):
            # Python's `$` also matches before a final line break, ECMA-262's does not.
            return self.fail(path, pattern_message(plan.pattern, value))
        return value


@dataclass(frozen=True)
class _Plan:
    """How `Reader.value` reads one annotation, worked out from its typing once."""

    nullable: bool
    rule: Rule | None
    model: type[msgspec.Struct] | None
    item: Any  # a list's item annotation, else None
    item_plan: _Plan | None  # and its plan
    items_unchecked: Any  # the list's annotation with its items left unchecked
    pattern: str | None
    choices: tuple[str, ...]


def _plan_of(annotation: Any) -> _Plan:
    core, nullable = _unwrap(annotation)
    item = _list_item(core)
    return _Plan(
        nullable=nullable,
        rule=_rule_of(core),
        model=_struct_of(core),
        item=item,
        item_plan=None if item is None else _plan(item),
        items_unchecked=None if item is None else _with_items(core, Any),
        pattern=_pattern_of(core),
        choices=tuple(_choices(core)),
    )


_planned = functools.cache(_plan_of)


def _plan(annotation: Any) -> _Plan:
    """The annotation's plan, kept for the process (the declared annotations are few)."""
    try:
        return _planned(annotation)
    except TypeError:  # an annotation that cannot be hashed is planned each time
        return _plan_of(annotation)


def _list_item(annotation: Any) -> Any:
    """The item type of a list annotation (through Annotated), else None."""
    inner = typing.get_args(annotation)[0] if hasattr(annotation, "__metadata__") else annotation
    if typing.get_origin(inner) is list:
        return typing.get_args(inner)[0]
    return None


def _with_items(annotation: Any, item: Any) -> Any:
    if hasattr(annotation, "__metadata__"):
        return typing.Annotated[(list[item], *annotation.__metadata__)]
    return list[item]


def read_body(raw: Any, model: type[msgspec.Struct]) -> Any:
    """The body as the handler's Struct, or a 400 naming every bad field."""
    reader = Reader()
    result = reader.struct(raw, model, "")
    if reader.errors or result is _MISSING:
        raise invalid(reader.errors)
    return result


class ContractRequest(Request[Any, Any, Any]):
    """A request whose JSON body arrives as the handler's declared Struct."""

    async def json(self) -> Any:
        body = await self.body()
        if not is_json(self.headers.get("content-type", "")):
            raise HTTPException(status_code=415)
        raw = decode_json(body)
        field = self.route_handler.parsed_fn_signature.parameters.get("data")
        model = _struct_of(field.annotation) if field is not None else None
        return raw if model is None else read_body(raw, model)
