"""Why review refuses a permission decision."""

from __future__ import annotations

from shared.errors import Conflict


class NotAPermissionCase(Conflict):
    code = "not-a-permission-case"
    title = "This case is not a permission request"


class AlreadyDecided(Conflict):
    code = "permission-already-decided"
    title = "This permission request is already decided"
