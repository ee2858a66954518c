"""Why a whole list is refused (as opposed to one of its rows)."""

from __future__ import annotations

from shared.errors import FieldProblem, InvalidInput, NotFound, ProblemError


class ListUnreadable(InvalidInput):
    """The body cannot be read as the list it claims to be: not UTF-8, no header, columns
    missing or unknown, JSON that is not a list object. Nothing is stored."""

    code = "violator-list-unreadable"
    title = "The violator list cannot be read"


class ListTooLong(InvalidInput):
    code = "violator-list-too-long"
    title = "The violator list has too many rows"

    @classmethod
    def at(cls, count: int, *, max_rows: int) -> ListTooLong:
        """Refusing a list once `count` (over `max_rows`) of its rows have been read."""
        return cls(
            f"The list has at least {count} rows; at most {max_rows} are taken in one list. "
            "Split it.",
            errors=[FieldProblem(field="rows", message=f"at most {max_rows} rows")],
        )


class UnsupportedListType(ProblemError):
    """The body is neither CSV nor JSON, or its content is not what its label says (a PNG or
    a zip sent as text/csv)."""

    status = 415
    code = "unsupported-media-type"
    title = "The body is not of a type this endpoint takes"


class BatchNotFound(NotFound):
    code = "violator-list-not-found"
