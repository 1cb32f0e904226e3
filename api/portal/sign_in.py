"""Sign up, log in and log out."""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, Response, get, post

from api.context import run, services
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
from api.validation import Reader
from application.users import InvalidCredentials
from domain.errors import InvalidInput
from domain.meta import Meta

LOGIN_ATTEMPTS_PER_MINUTE = 10


def anonymous_meta(request: Request[Any, Any, Any], email: str) -> Meta:
    client = request.client
    return Meta(
        actorType="user",
        actorId=None,
        actorName=email,
        requestId=None,
        ip=client.host if client else None,
        userAgent=(request.headers.get("user-agent") or "")[:300] or None,
    )


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
        r = Reader(dict(data))
        email = r.email("email", required=True, nullable=False)
        name = r.string("accountName", required=True, nullable=False, max_len=200)
        password = data.get("password") or ""
        values = {"email": data.get("email", ""), "accountName": data.get("accountName", "")}
        try:
            r.check()
            user = await run(
                services(request).app.sign_up, email, password, name, anonymous_meta(request, email)
            )
        except InvalidInput as error:
            return page("signup.html", 400, csrf=token, values=values, errors=error.details)
        session, _ = await run(services(request).sessions.create, user.id, time.time())
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
        address = request.client.host if request.client else "unknown"
        for bucket in (f"login-ip:{address}", f"login-email:{email}"):
            decision = await run(s.limiter.hit, bucket, LOGIN_ATTEMPTS_PER_MINUTE, now)
            if not decision.allowed:
                text = f"Too many attempts. Try again in {decision.retry_after} seconds."
                return page("login.html", 429, csrf=token, email=email, error=text)
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
