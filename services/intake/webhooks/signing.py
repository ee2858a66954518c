"""Webhook signing secrets: made here, kept encrypted, and used to sign each delivery.

A portal verifies that a delivery came from intake with the secret it was shown once at
registration. intake must keep the secret itself to sign, so it cannot store only a hash: it
stores the secret encrypted (Fernet, AES-128-CBC with HMAC-SHA256) under a key derived from
INTAKE_WEBHOOK_SECRET_KEY (or, unset, from PSEUDONYM_KEY under a label of its own), so a copy of
the database alone does not reveal the secrets. The
secret is never returned again; a portal that loses it registers again and gets a new one.

The signature header is `Conduct-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`. Signing the time with the body lets a receiver refuse replays of old deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Conduct-Signature"
DELIVERY_ID_HEADER = "Conduct-Delivery-Id"


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _fernet(key: str) -> Fernet:
    # Any string configures the key; Fernet needs 32 bytes, urlsafe-base64 encoded.
    digest = hashlib.sha256(b"conduct webhook secrets\x00" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_secret(secret: str, *, key: str) -> str:
    return _fernet(key).encrypt(secret.encode()).decode()


def open_secret(sealed: str, *, key: str) -> str:
    return _fernet(key).decrypt(sealed.encode()).decode()


def signature(secret: str, *, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, *, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp=timestamp, body=body)}"


def signature_matches(secret: str, *, header: str, body: bytes) -> bool:
    """What a receiver does (and the tests do): recompute and compare in constant time."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, fields.get("v1", ""))
