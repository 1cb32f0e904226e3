"""Sign up, log in and log out, with limits counted in the database that every process shares.

Log-in: 10 attempts a minute per client address and per email address. Sign-up: 5 an
hour per client address, counting the submissions that reach account creation (a
valid form, including those refused because the email is taken).
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from litestar import Controller, Request, Response, get, post

from api.client_address import audit_address, client_address
from api.context import run, services
from api.portal.forms import Form
from api.portal.web import (
    anonymous_csrf,
    cleared_session,
    csrf_cookie,
    csrf_matches,
    go,
    page,
    session_cookie,
    visitor,
)
from application.ports import RateDecision
from application.users import MIN_PASSWORD, InvalidCredentials
from domain.errors import InvalidInput
from domain.meta import Meta

LOGIN_ATTEMPTS_PER_MINUTE = 10
SIGNUPS_PER_HOUR = 5


def anonymous_meta(request: Request[Any, Any, Any], email: str) -> Meta:
    return Meta(
        actorType="user",
        actorId=None,
        actorName=email,
        requestId=None,
        ip=audit_address(request.scope),
        userAgent=(request.headers.get("user-agent") or "")[:300] or None,
    )


def email_bucket(email: str) -> str:
    """A bounded bucket name that does not store the address itself."""
    return "login-email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def too_many(decision: RateDecision) -> dict[str, str]:
    return {"Retry-After": str(decision.retry_after)}


class SignInController(Controller):
    include_in_schema = False

    @get("/signup")
    async def signup_form(self, request: Request[Any, Any, Any]) -> Any:
        token = anonymous_csrf(request)
        return page("signup.html", csrf=token, values={}, errors={}, cookies=[csrf_cookie(token)])

    @post("/signup")
    async def signup(self, request: Request[Any, Any, Any]) -> Any:
        data = await request.form()
        token = request.cookies.get("experi_csrf", "")
        if not csrf_matches(data.get("csrf"), token):
            return page(
                "message.html", 403, title="Form expired", text="Reload the page and try again."
            )
        form = Form(dict(data))
        email = form.email("email")
        name = form.text("accountName", "Account name", 200)
        password = str(data.get("password") or "")
        if len(password) < MIN_PASSWORD:
            form.fail("password", f"Must be at least {MIN_PASSWORD} characters")
        values = {"email": data.get("email", ""), "accountName": data.get("accountName", "")}
        s = services(request)
        try:
            if form.errors:
                raise InvalidInput("Validation failed", form.errors)
            bucket = f"signup-ip:{client_address(request.scope)}"
            decision = await run(s.shared_limiter.hit, bucket, SIGNUPS_PER_HOUR, time.time(), 3600)
            if not decision.allowed:
                minutes = math.ceil(decision.retry_after / 60)
                text = f"Too many sign-ups from this address. Try again in {minutes} minutes."
                return page(
                    "message.html",
                    429,
                    headers=too_many(decision),
                    title="Too many sign-ups",
                    text=text,
                )
            user = await run(s.app.sign_up, email, password, name, anonymous_meta(request, email))
        except InvalidInput as error:
            return page("signup.html", 400, csrf=token, values=values, errors=error.details)
        session, _ = await run(s.sessions.create, user.id, time.time())
        return go("/dashboard", cookies=[session_cookie(session)])

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Any:
        if await visitor(request):
            return go("/dashboard")
        token = anonymous_csrf(request)
        return page("login.html", csrf=token, email="", error=None, cookies=[csrf_cookie(token)])

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Any:
        data = await request.form()
        token = request.cookies.get("experi_csrf", "")
        if not csrf_matches(data.get("csrf"), token):
            return page(
                "message.html", 403, title="Form expired", text="Reload the page and try again."
            )
        email = str(data.get("email") or "").strip().lower()
        password = str(data.get("password") or "")
        s = services(request)
        now = time.time()
        for bucket in (f"login-ip:{client_address(request.scope)}", email_bucket(email)):
            decision = await run(s.shared_limiter.hit, bucket, LOGIN_ATTEMPTS_PER_MINUTE, now)
            if not decision.allowed:
                text = f"Too many attempts. Try again in {decision.retry_after} seconds."
                return page(
                    "login.html",
                    429,
                    headers=too_many(decision),
                    csrf=token,
                    email=email,
                    error=text,
                )
        try:
            user = await run(s.app.log_in, email, password)
        except InvalidCredentials as error:
            return page("login.html", 400, csrf=token, email=email, error=error.message)
        session, _ = await run(s.sessions.create, user.id, now)
        return go("/dashboard", cookies=[session_cookie(session)])

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        v = await visitor(request)
        data = await request.form()
        if v is not None and csrf_matches(data.get("csrf"), v.csrf):
            await run(services(request).sessions.delete, request.cookies.get("experi_session", ""))
            return go("/login", cookies=[cleared_session()])
        return go("/dashboard")
