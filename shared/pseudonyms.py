"""Opaque references for identities that must stay in the service that learned them.

intake keeps who reported; review only needs to know whether a member *is* that person or
works in that office. A keyed hash (HMAC-SHA256 with a key known to intake and review, never
stored with the data) lets review compare without learning the identity.
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, *, kind: str, value: str) -> str:
    normalised = " ".join(value.split()).casefold()
    digest = hmac.new(key.encode(), f"{kind}:{normalised}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
