"""Why review refuses an action."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound


class CaseNotFound(NotFound):
    code = "case-not-found"
    title = "No such case for this member"


class NotAssignee(Forbidden):
    code = "not-assignee"
    title = "Only the member assigned to the case may do this"


class SeparationOfDuties(Forbidden):
    code = "separation-of-duties"
    title = "The same person may not both decide and countersign"


class NotChair(Forbidden):
    code = "not-chair"
    title = "Only the chair of the case's unit may do this"


class NotDueProcessCase(Conflict):
    code = "not-a-due-process-case"
    title = "This case is not tried by the due-process steps"
