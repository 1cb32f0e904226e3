"""API key scopes and the shorthands `all` and `read`."""

from __future__ import annotations

from domain.errors import InvalidInput

SCOPES = (
    "clients:read",
    "clients:write",
    "invoices:read",
    "invoices:write",
    "invoices:send",
    "payments:write",
    "recurring:read",
    "recurring:write",
    "audit:read",
    "events:read",
    "account:read",
    "account:write",
    "webhooks:read",
    "webhooks:write",
)
SHORTHANDS = {
    "all": SCOPES,
    "read": tuple(s for s in SCOPES if s.endswith(":read")),
}


def expand(requested: list[str]) -> tuple[str, ...]:
    """Expand shorthands and check every scope; the result is sorted and unique."""
    result: set[str] = set()
    unknown = []
    for scope in requested:
        scope = scope.strip()
        if scope in SHORTHANDS:
            result.update(SHORTHANDS[scope])
        elif scope in SCOPES:
            result.add(scope)
        else:
            unknown.append(scope)
    if unknown:
        raise InvalidInput.field("scopes", f"Unknown scopes: {', '.join(unknown)}")
    if not result:
        raise InvalidInput.field("scopes", "At least one scope is required")
    return tuple(s for s in SCOPES if s in result)
