"""Signed audit digests: an Ed25519 signature over the head of an account's audit chain.

Modelled on CloudTrail's digest files. The signing key is made on first use and kept in
the database, so every process (and every host on a shared PostgreSQL) signs with the
same key. A digest's tamper evidence does not rest on the key staying secret from
someone who can write to the database: a kept digest pins the chain's hash, and no
key lets anyone make altered events hash to it. The signature proves the digest was
issued by this server (a customer cannot make one up) and binds it to one account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from application.ports import SqlDatabase

DIGEST_FORMAT = "experi-audit-digest/1"
FIELDS = ("length", "headHash", "signedAt", "signature", "publicKeyId")


@dataclass(frozen=True)
class Digest:
    """The signed head of one account's audit chain, as the API returns it."""

    length: int
    head_hash: str
    signed_at: str
    signature: str  # base64 of the 64-byte Ed25519 signature
    public_key_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "headHash": self.head_hash,
            "signedAt": self.signed_at,
            "signature": self.signature,
            "publicKeyId": self.public_key_id,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Digest:
        """A digest from its JSON form; ValueError names what is missing or malformed."""
        if not isinstance(raw, dict):
            raise ValueError("a digest is a JSON object")
        missing = [f for f in FIELDS if f not in raw]
        if missing:
            raise ValueError(f"the digest lacks {', '.join(missing)}")
        length = raw["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError("length must be a whole number, 0 or more")
        texts = [raw[f] for f in FIELDS[1:]]
        if not all(isinstance(t, str) for t in texts):
            raise ValueError("headHash, signedAt, signature and publicKeyId must be strings")
        return cls(length, *texts)


def digest_message(account_id: str, length: int, head_hash: str, signed_at: str) -> bytes:
    """What is signed: compact JSON with sorted keys, so any language can rebuild it."""
    fields = {
        "accountId": account_id,
        "format": DIGEST_FORMAT,
        "headHash": head_hash,
        "length": length,
        "signedAt": signed_at,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class DigestSigner:
    """Signs and checks digests with the server's key, made once and shared via the database."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._signing: tuple[str, Ed25519PrivateKey] | None = None
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS audit_signing_keys (key_id TEXT PRIMARY KEY, "
                "private_key TEXT NOT NULL, public_key TEXT NOT NULL, "
                "created_at DOUBLE PRECISION NOT NULL)"
            )

    def _key(self) -> tuple[str, Ed25519PrivateKey]:
        if self._signing is None:
            # Under a lock, so processes starting together agree on one key.
            with self.db.transaction(lock="audit-signing-key") as cur:
                cur.execute(
                    "SELECT key_id, private_key FROM audit_signing_keys "
                    "ORDER BY created_at DESC LIMIT 1"
                )
                row = cur.fetchone()
                if row is None:
                    private = Ed25519PrivateKey.generate()
                    public = private.public_key()
                    row = (key_id_of(public), private.private_bytes_raw().hex())
                    cur.execute(
                        "INSERT INTO audit_signing_keys (key_id, private_key, public_key, "
                        "created_at) VALUES (?, ?, ?, ?)",
                        (row[0], row[1], public.public_bytes_raw().hex(), time.time()),
                    )
            private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(row[1]))
            self._signing = (str(row[0]), private_key)
        return self._signing

    def sign(self, account_id: str, length: int, head_hash: str, signed_at: str) -> Digest:
        key_id, private = self._key()
        signature = private.sign(digest_message(account_id, length, head_hash, signed_at))
        return Digest(length, head_hash, signed_at, base64.b64encode(signature).decode(), key_id)

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        """The public half of one of this server's keys, if it has the key."""
        row = self.db.statement(
            "SELECT public_key FROM audit_signing_keys WHERE key_id = ?", (key_id,)
        )
        return None if row is None else Ed25519PublicKey.from_public_bytes(bytes.fromhex(row[0]))

    def signed_for(self, digest: Digest, accounts: Iterable[str]) -> str | None:
        """The account (among `accounts`) whose digest this is, if its signature holds."""
        public = self.public_key(digest.public_key_id)
        if public is None:
            return None
        try:
            signature = base64.b64decode(digest.signature, validate=True)
        except (binascii.Error, ValueError):
            return None
        for account_id in accounts:
            message = digest_message(account_id, digest.length, digest.head_hash, digest.signed_at)
            try:
                public.verify(signature, message)
            except InvalidSignature:
                continue
            return account_id
        return None

    def refusal(self, digest: Digest, account_id: object | None) -> str:
        """Why a digest's signature does not hold (for an operator to read)."""
        if self.public_key(digest.public_key_id) is None:
            return f"the digest was signed with key {digest.public_key_id}, which this server lacks"
        if account_id is not None:
            return f"the digest's signature does not hold for account {account_id} (altered?)"
        return (
            "the digest's signature holds for no account in this store: altered, or the "
            "account's records are gone (name the account with --account)"
        )
