"""The dashboard: plan, API access, and the business profile printed on invoices."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from api.context import run, services
from api.portal.web import csrf_matches, expired, go, page, user_meta, visitor
from domain.errors import DomainError, InvalidInput

# Form field -> the account's field (domain name).
FORM_FIELDS = {
    "businessName": "business_name",
    "addressLine1": "address_line1",
    "addressLine2": "address_line2",
    "city": "city",
    "postcode": "postcode",
    "country": "country",
    "email": "email",
    "phone": "phone",
    "taxNumber": "tax_number",
    "paymentInstructions": "payment_instructions",
    "invoicePrefix": "invoice_prefix",
}
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
        return self._page(request, v, notice=request.query_params.get("notice"))

    def _page(
        self, request: Request[Any, Any, Any], v: Any, status: int = 200, **extra: Any
    ) -> Any:
        profile = v.account.profile
        values = {form: profile.get(field) or "" for form, field in FORM_FIELDS.items()}
        return page(
            "dashboard.html",
            status,
            v=v,
            csrf=v.csrf,
            labels=PROFILE_LABELS,
            contact=services(request).settings.operator_contact,
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
            return self._page(request, v, 403, notice=error.message)
        return go("/dashboard?notice=API+access+requested")

    @post("/profile")
    async def profile(self, request: Request[Any, Any, Any]) -> Any:
        v = await visitor(request)
        if v is None:
            return go("/login")
        data = await request.form()
        if not csrf_matches(data.get("csrf"), v.csrf):
            return expired()
        sent = {form: str(data.get(form) or "") for form in FORM_FIELDS}
        # An empty box clears the field; the account's rules check the rest.
        changes = {field: sent[form].strip() or None for form, field in FORM_FIELDS.items()}
        try:
            app = services(request).app
            await run(app.update_profile, v.account.id, changes, user_meta(request, v))
        except InvalidInput as error:
            forms = {field: form for form, field in FORM_FIELDS.items()}
            errors = {forms.get(field, field): m for field, m in error.details.items()}
            return self._page(request, v, 400, values=sent, errors=errors)
        return go("/dashboard?notice=Profile+saved")
