"""Signed statements of the ledger's head: what a checkpoint says, and its Ed25519 signature.

Pure: no database. A checkpoint states (record count, head sequence, head chain hash, time);
the registry signs its canonical bytes with its Ed25519 key. Anyone holding the public key can
later prove that the ledger then had at least that many records ending in that hash, so a
truncated or rewritten chain is caught even if whoever rewrote it recomputed every hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# Local and test runs sign with a key derived from this constant; production must configure
# REGISTRY_CHECKPOINT_SIGNING_KEY (the settings refuse to start without it).
DEVELOPMENT_SEED = b"conduct development checkpoint key: never use in production"


@dataclass(frozen=True)
class CheckpointStatement:
    record_count: int
    head_sequence: int
    head_hash: str
    signed_at: datetime

    def canonical_bytes(self) -> bytes:
        return json.dumps(
            {
                "record_count": self.record_count,
                "head_sequence": self.head_sequence,
                "head_hash": self.head_hash,
                "signed_at": self.signed_at.isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()


def development_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEVELOPMENT_SEED).digest())


def load_signing_key(encoded: str | None) -> Ed25519PrivateKey:
    """The key from its base64 raw form (32 bytes), or the development key when None."""
    if encoded is None:
        return development_key()
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 private key is 32 raw bytes, base64-encoded")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign_statement(statement: CheckpointStatement, *, key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.sign(statement.canonical_bytes())).decode()


def signature_holds(statement: CheckpointStatement, *, signature: str, public_key: str) -> bool:
    verifier = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    try:
        verifier.verify(base64.b64decode(signature), statement.canonical_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True
