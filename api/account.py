"""The account's profile: the seller details printed on invoices."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, get, patch

from api.context import json_body, meta, principal, run, services
from api.requests import AccountUpdate
from api.schemas import AccountOut
from api.validation import Reader, present
from domain.account import Account

# API name -> (domain name, maximum length)
PROFILE = {
    "businessName": ("business_name", 200),
    "addressLine1": ("address_line1", 200),
    "addressLine2": ("address_line2", 200),
    "city": ("city", 100),
    "postcode": ("postcode", 20),
    "country": ("country", 100),
    "email": ("email", 254),
    "phone": ("phone", 50),
    "taxNumber": ("tax_number", 50),
    "paymentInstructions": ("payment_instructions", 2000),
    "invoicePrefix": ("invoice_prefix", 10),
}
PREFIX = re.compile(r"^[A-Za-z0-9]{1,10}$")


def read_profile(data: Any) -> dict[str, Any]:
    r = Reader(data)
    for fixed in ("id", "plan", "apiAccess"):
        if fixed in r.data:
            r.fail(fixed, "Cannot be changed through the API")
    r.only(("name", "id", "plan", "apiAccess", *PROFILE))
    values: dict[str, Any] = {"name": r.string("name", nullable=False, max_len=200)}
    for api_name, (domain_name, max_len) in PROFILE.items():
        if api_name == "email":
            values[domain_name] = r.email("email")
        else:
            values[domain_name] = r.string(api_name, max_len=max_len)
    prefix = values["invoice_prefix"]
    if isinstance(prefix, str) and not PREFIX.match(prefix):
        r.fail("invoicePrefix", "Must be 1 to 10 letters or digits")
    r.check()
    return present(values)


def account_out(account: Account) -> AccountOut:
    p = account.profile
    return AccountOut(
        id=str(account.id),
        name=account.name,
        plan=account.plan,
        api_access=account.api_access,
        business_name=p.get("business_name"),
        address_line1=p.get("address_line1"),
        address_line2=p.get("address_line2"),
        city=p.get("city"),
        postcode=p.get("postcode"),
        country=p.get("country"),
        email=p.get("email"),
        phone=p.get("phone"),
        tax_number=p.get("tax_number"),
        payment_instructions=p.get("payment_instructions"),
        invoice_prefix=account.invoice_prefix,
    )


class AccountController(Controller):
    path = "/account"
    tags = ["Account"]

    @get("/", opt={"scope": "account:read"}, summary="The account and its seller details")
    async def get_account(self, request: Request[Any, Any, Any]) -> AccountOut:
        account = await run(services(request).app.get_account, principal(request).account_id)
        return account_out(account)

    @patch(
        "/",
        opt={"scope": "account:write", "body": AccountUpdate},
        summary="Update the seller details",
    )
    async def update(self, request: Request[Any, Any, Any]) -> AccountOut:
        changes = read_profile(await json_body(request))
        app = services(request).app
        account = await run(
            app.update_profile, principal(request).account_id, changes, meta(request)
        )
        return account_out(account)
