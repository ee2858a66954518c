"""Bearer credentials: issued once, stored only as a hash, compared in constant time.

A token reads `<key_id>.<secret>`. The key id finds the stored row; the secret is 256 random
bits, so a plain SHA-256 of it is as strong as a slow password hash while costing microseconds
per request. Tokens are never logged; only key ids are.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import Unauthenticated

BEARER = "bearer "


@dataclass(frozen=True)
class IssuedCredential:
    key_id: str
    secret_hash: str
    token: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_credential(prefix: str) -> IssuedCredential:
    key_id = f"{prefix}_{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    return IssuedCredential(
        key_id=key_id, secret_hash=hash_secret(secret), token=f"{key_id}.{secret}"
    )


def parse_bearer(authorization: str | None) -> tuple[str, str]:
    """(key id, secret) from an Authorization header, or 401."""
    if not authorization or not authorization.lower().startswith(BEARER):
        raise Unauthenticated(
            "Send the credential as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key_id, _, secret = authorization[len(BEARER) :].strip().partition(".")
    if not key_id or not secret or len(key_id) > 64 or len(secret) > 128:
        raise Unauthenticated(
            "The credential is malformed.", headers={"WWW-Authenticate": "Bearer"}
        )
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def credential_accepts(
    secret: str,
    *,
    secret_hash: str,
    revoked_at: datetime | None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """The one rule for every stored credential: the secret matches, and it is neither revoked
    nor past its expiry."""
    moment = now or datetime.now(UTC)
    return (
        secret_matches(secret, secret_hash)
        and revoked_at is None
        and (expires_at is None or expires_at > moment)
    )


def invalid_credential() -> Unauthenticated:
    # One message for unknown, wrong, revoked and expired: a caller learns nothing about which.
    return Unauthenticated(
        "The credential is not valid.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )
