"""The dashboard: plan, API access, and the business profile printed on invoices."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from api.account import PROFILE, account_out, read_profile
from api.context import run, services
from api.portal.web import csrf_matches, expired, go, page, user_meta, visitor
from domain.errors import DomainError, InvalidInput

PROFILE_LABELS = {
    "businessName": "Business name",
    "addressLine1": "Address line 1",
    "addressLine2": "Address line 2",
    "city": "Town or city",
    "postcode": "Postcode",
    "country": "Country",
    "email": "Billing email",
    "phone": "Phone",
    "taxNumber": "VAT number",
    "paymentInstructions": "Payment instructions",
    "invoicePrefix": "Invoice number prefix",
}


class DashboardController(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/")
    async def show(self, request: Request[Any, Any, Any]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        return self._page(v, notice=request.query_params.get("notice"))

    def _page(self, v: Any, status: int = 200, **extra: Any) -> Any:
        profile = account_out(v.account)
        values = {name: getattr(profile, PROFILE[name][0]) or "" for name in PROFILE}
        return page(
            "dashboard.html",
            status,
            v=v,
            csrf=v.csrf,
            labels=PROFILE_LABELS,
            values=extra.pop("values", values),
            errors=extra.pop("errors", {}),
            **extra,
        )

    @post("/request-api-access")
    async def request_access(self, request: Request[Any, Any, Any]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        if not csrf_matches((await request.form()).get("csrf"), v.csrf):
            return expired()
        try:
            await run(services(request).app.request_api_access, v.account.id, user_meta(request, v))
        except DomainError as error:
            return self._page(v, 403, notice=error.message)
        return go("/dashboard?notice=API+access+requested")

    @post("/profile")
    async def profile(self, request: Request[Any, Any, Any]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        data = await request.form()
        if not csrf_matches(data.get("csrf"), v.csrf):
            return expired()
        sent = {name: str(data.get(name) or "") for name in PROFILE}
        try:
            changes = read_profile(sent)
            app = services(request).app
            await run(app.update_profile, v.account.id, changes, user_meta(request, v))
        except InvalidInput as error:
            return self._page(v, 400, values=sent, errors=error.details)
        return go("/dashboard?notice=Profile+saved")
