"""Portal users: sign up (with a new FREE account), and log in."""

from __future__ import annotations

import secrets
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.base import ExperiBase
from application.ports import PasswordHasher
from domain.account import FREE, NONE, Account
from domain.errors import DomainError, InvalidInput
from domain.meta import Meta
from domain.user import User, user_id_for

MIN_PASSWORD = 12


class InvalidCredentials(DomainError):
    """Unknown email or wrong password: one error for both, on purpose."""


class UserCommands(ExperiBase):
    passwords: PasswordHasher | None = None
    _dummy: str | None = None

    def _passwords(self) -> PasswordHasher:
        if self.passwords is None:
            raise RuntimeError("no password hasher configured")
        return self.passwords

    def sign_up(self, email: str, password: str, account_name: str, meta: Meta) -> User:
        if len(password) < MIN_PASSWORD:
            raise InvalidInput.field("password", f"Must be at least {MIN_PASSWORD} characters")
        now = self.clock.now()
        account = Account(
            name=account_name, email=email, plan=FREE, api_access=NONE, at=now, meta=meta
        )
        user = User(
            email=email,
            password_hash=self._passwords().hash(password),
            account_id=account.id,
            at=now,
            meta=meta,
        )
        try:
            self.save(account, user)  # both or neither
        except IntegrityError:
            raise InvalidInput.field("email", "An account with this email already exists") from None
        return user

    def log_in(self, email: str, password: str) -> User:
        hasher = self._passwords()
        try:
            user: object = self.repository.get(user_id_for(email))
        except AggregateNotFoundError:
            hasher.verify(password, self._dummy_hash())  # the same work as for a known email
            raise InvalidCredentials("Incorrect email or password") from None
        if not isinstance(user, User) or not hasher.verify(password, user.password_hash):
            raise InvalidCredentials("Incorrect email or password")
        return user

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._passwords().hash(secrets.token_hex(16))
        return self._dummy

    def get_user(self, user_id: UUID) -> User:
        user: object = self.repository.get(user_id)
        if not isinstance(user, User):
            raise TypeError("not a user")
        return user
