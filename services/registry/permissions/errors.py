"""Why the registry refuses to record a permission decision."""

from __future__ import annotations

from shared.errors import Conflict, InvalidInput


class ConflictingPermissionDecision(Conflict):
    """A second, different decision for a case whose decision the ledger already holds."""

    code = "conflicting-permission-decision"
    title = "The case already has a different recorded permission decision"


class MalformedPermissionDecision(InvalidInput):
    """A decision the ledger cannot hold as sent (a personal permission without its employee,
    a period that ends before it begins)."""

    code = "malformed-permission-decision"
    title = "The permission decision cannot be recorded as sent"
