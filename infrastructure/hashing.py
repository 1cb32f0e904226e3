"""bcrypt hashes of API key secrets."""

from __future__ import annotations

import bcrypt


class BcryptHasher:
    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds

    def hash(self, secret: str) -> str:
        return bcrypt.hashpw(secret.encode(), bcrypt.gensalt(self.rounds)).decode()

    def verify(self, secret: str, hashed: str) -> bool:
        data = secret.encode()
        # bcrypt refuses input over 72 bytes; our secrets are 48 bytes.
        if len(data) > 72:
            return False
        return bcrypt.checkpw(data, hashed.encode())
