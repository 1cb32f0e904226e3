"""Commands on accounts and API keys, and authentication of a bearer key."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from application.base import ExperiBase, retry_on_conflict
from domain import scopes as scope_rules
from domain.account import APPROVED, NONE, PLANS, PRO, Account, ApiKey
from domain.errors import InvalidInput
from domain.meta import Meta
from domain.profile import name_problem

KEY_PREFIX = "exp_live_"
KEY_PATTERN = re.compile(
    r"^exp_live_(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"_(?P<secret>[0-9a-f]{48})$"
)
MAX_BEARER_LENGTH = 200


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key of an account, with its scopes."""

    account_id: UUID
    key_id: UUID
    key_name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # the full key, shown once


class AccountCommands(ExperiBase):
    @retry_on_conflict
    def create_account(
        self, name: str, email: str, plan: str, approve_api: bool, meta: Meta
    ) -> Account:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {PLANS}")
        problem = name_problem(name, 200)
        if problem:
            raise InvalidInput.field("name", problem)
        access = APPROVED if approve_api else NONE
        account = Account(
            name=name, email=email, plan=plan, api_access=access, at=self.clock.now(), meta=meta
        )
        self.save(account)
        return account

    def get_account(self, account_id: UUID) -> Account:
        return self.get_typed(Account, account_id, "Account")

    @retry_on_conflict
    def approve_api(self, account_id: UUID, meta: Meta) -> Account:
        account = self.get_account(account_id)
        account.approve_api_access(self.clock.now(), meta)
        self.save(account)
        return account

    @retry_on_conflict
    def request_api_access(self, account_id: UUID, meta: Meta) -> Account:
        account = self.get_account(account_id)
        account.request_api_access(self.clock.now(), meta)
        self.save(account)
        return account

    @retry_on_conflict
    def set_plan(self, account_id: UUID, plan: str, meta: Meta) -> Account:
        account = self.get_account(account_id)
        account.change_plan(plan, self.clock.now(), meta)
        self.save(account)
        return account

    @retry_on_conflict
    def update_profile(self, account_id: UUID, changes: dict[str, Any], meta: Meta) -> Account:
        account = self.get_account(account_id)
        account.update_profile(changes, self.clock.now(), meta)
        self.save(account)
        return account

    def create_key(self, account_id: UUID, name: str, scopes: list[str], meta: Meta) -> NewKey:
        problem = name_problem(name)
        if problem:
            # The name rides on every event the key makes (the audit actor): text a
            # database column cannot hold would stop the views behind it.
            raise InvalidInput.field("name", problem)
        account = self.get_account(account_id)
        account.check_api_allowed()
        expanded = scope_rules.expand(scopes)
        key_id = uuid4()
        secret = secrets.token_hex(24)  # 192 bits
        key = ApiKey(
            id=key_id,
            account_id=account.id,
            name=name,
            scopes=expanded,
            secret_hash=self.hasher.hash(secret),
            at=self.clock.now(),
            meta=meta,
        )
        self.save(key)
        return NewKey(key=key, token=f"{KEY_PREFIX}{key_id}_{secret}")

    def get_key(self, key_id: UUID) -> ApiKey:
        return self.get_typed(ApiKey, key_id, "API key")

    @retry_on_conflict
    def revoke_key(self, key_id: UUID, meta: Meta) -> ApiKey:
        key = self.get_key(key_id)
        key.revoke(self.clock.now(), meta)
        self.save(key)
        return key


def is_pro(account: Account) -> bool:
    return account.plan == PRO
