"""argon2id password hashes with OWASP's recommended parameters (19 MiB, t=2, p=1)."""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Passwords:
    def __init__(self) -> None:
        self._argon2 = Argon2(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        try:
            return self._argon2.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
