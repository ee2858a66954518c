"""Why review refuses a change to a unit's members."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound


class UnitNotFound(NotFound):
    code = "unit-not-found"
    title = "No such unit for this member"


class MemberNotFound(NotFound):
    code = "member-not-found"
    title = "No such member in this unit"


class NotUnitChair(Forbidden):
    code = "not-chair"
    title = "Only the chair of the unit may do this"


class MemberStandingConflict(Conflict):
    code = "member-standing"
    title = "The member's standing does not allow this change"
