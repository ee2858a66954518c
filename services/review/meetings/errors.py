"""Why review refuses a unit's meeting or summary."""

from __future__ import annotations

from shared.errors import Forbidden


class NotUnitOfficer(Forbidden):
    code = "not-unit-officer"
    title = "Only the unit's chair or secretary may do this"
