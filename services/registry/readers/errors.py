"""Why registry refuses a reader."""

from __future__ import annotations

from shared.errors import Forbidden


class RoleNotAllowed(Forbidden):
    code = "role-not-allowed"
    title = "This credential's role may not do this"


class OutsideOrganisation(Forbidden):
    code = "outside-organisation"
    title = "This credential reads only its own department"
