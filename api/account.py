"""The account's profile: the seller details printed on invoices."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.params import JSONBody

from api.context import AppServices, Caller, EventMeta, run
from api.openapi import WITH_BODY, contract
from api.requests import AccountUpdate
from api.schemas import AccountOut
from domain.account import Account


def account_out(account: Account) -> AccountOut:
    p = account.profile
    return AccountOut(
        id=str(account.id),
        name=account.name,
        plan=account.plan,  # type: ignore[arg-type]
        api_access=account.api_access,  # type: ignore[arg-type]
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

    @get("/", summary="The account and its seller details", **contract("account:read"))
    async def get_account(self, services: AppServices, principal: Caller) -> AccountOut:
        return account_out(await run(services.app.get_account, principal.account_id))

    @patch(
        "/",
        summary="Update the seller details (only the fields sent)",
        **contract("account:write", *WITH_BODY),
    )
    async def update_account(
        self,
        data: JSONBody[AccountUpdate],
        services: AppServices,
        principal: Caller,
        meta: EventMeta,
    ) -> AccountOut:
        changes = data.present()
        account = await run(services.app.update_profile, principal.account_id, changes, meta)
        return account_out(account)
