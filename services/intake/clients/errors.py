"""Why intake refuses an operation on a client credential (the admin CLI shows these)."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class ClientCredentialNotFound(NotFound):
    code = "client-credential-not-found"
    title = "No client credential with this key id"


class CredentialNotRotatable(Conflict):
    code = "credential-not-rotatable"
    title = "Only a credential that still works can be rotated"
