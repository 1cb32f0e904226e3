"""What every portal page needs: the visitor's session, CSRF checks, pages, cookies."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from api.client_address import audit_address
from api.context import run, services
from api.errors import request_id
from domain.account import Account
from domain.meta import Meta
from domain.user import User
from infrastructure.sessions import SESSION_SECONDS

SESSION_COOKIE = "experi_session"
CSRF_COOKIE = "experi_csrf"
# Pages load only their own stylesheet and script, post forms only to themselves, and
# may not be framed.
PAGE_CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)


@dataclass(frozen=True)
class Visitor:
    """A logged-in user, their account, and the session's CSRF token."""

    user: User
    account: Account
    csrf: str


async def visitor(request: Request[Any, Any, Any]) -> Visitor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    s = services(request)
    found = await run(s.sessions.get, token, time.time())
    if found is None:
        return None
    user_id, csrf = found
    user = await run(s.app.get_user, user_id)
    account = await run(s.app.get_account, user.account_id)
    return Visitor(user, account, csrf)


def csrf_matches(sent: object, expected: str) -> bool:
    return isinstance(sent, str) and bool(expected) and hmac.compare_digest(sent, expected)


def anonymous_csrf(request: Request[Any, Any, Any]) -> str:
    """The double-submit token for forms shown before login (cookie + hidden field)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def csrf_cookie(token: str) -> Cookie:
    return Cookie(
        key=CSRF_COOKIE, value=token, httponly=True, secure=True, samesite="strict", path="/"
    )


def session_cookie(token: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
        max_age=SESSION_SECONDS,
    )


def cleared_session() -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/", httponly=True, secure=True)


def page(
    name: str,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name=name,
        context=context,
        status_code=status,
        media_type="text/html",
        cookies=cookies or [],
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": PAGE_CSP,
            **(headers or {}),
        },
    )


def go(to: str, cookies: list[Cookie] | None = None) -> Response[Any]:
    return Redirect(path=to, status_code=303, cookies=cookies or [])


def user_meta(request: Request[Any, Any, Any], v: Visitor) -> Meta:
    return Meta(
        actorType="user",
        actorId=str(v.user.id),
        actorName=v.user.email,
        requestId=request_id(request.scope),
        ip=audit_address(request.scope),
        userAgent=(request.headers.get("user-agent") or "")[:300] or None,
    )


def expired() -> Template:
    """A form whose CSRF token does not match: refused, nothing changed."""
    return page("message.html", 403, title="Form expired", text="Reload the page and try again.")
