"""Why registry refuses to produce an employee's record or its read log."""

from __future__ import annotations

from shared.errors import NotFound


class EmployeeNotFound(NotFound):
    code = "employee-not-found"
    title = "No record of this employee for this credential"
