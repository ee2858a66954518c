"""Errors as RFC 9457 problem details.

Domain code raises subclasses of `ProblemError`, each with a status and a stable code; one set of
handlers renders them, request validation errors, and anything unexpected, as
application/problem+json. No response ever carries a traceback, SQL or driver text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = structlog.get_logger(__name__)


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """The problem+json body, as OpenAPI shows it."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldProblem] = []


class ProblemError(Exception):
    """Base of every expected failure. Subclasses set status, code and title."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


class Unauthenticated(ProblemError):
    status = 401
    code = "unauthenticated"
    title = "Credential missing or not valid"


class Forbidden(ProblemError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(ProblemError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class InvalidInput(ProblemError):
    status = 422
    code = "invalid-input"
    title = "The request is not valid"


class PayloadTooLarge(ProblemError):
    status = 413
    code = "payload-too-large"
    title = "Request body too large"


class ServiceUnavailable(ProblemError):
    status = 503
    code = "service-unavailable"
    title = "Temporarily unavailable"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:problem:conduct:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        errors=list(errors),
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def instance_of(scope: Mapping[str, Any]) -> str:
    """A problem's `instance`: the endpoint's path template ("/v1/employees/{employee_ref}/
    record"), never the path as sent, whose ids and references an error body must not repeat
    (the request is found by its X-Correlation-Id)."""
    from shared.metrics import route_template

    return route_template(dict(scope))


def field_name(location: Sequence[Any]) -> str:
    """'body.subjects.0.name' -> 'subjects.0.name': the field as the caller wrote it."""
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts)


def responses_for(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems a route can answer with."""
    documented: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = documented.setdefault(
            error.status,
            {"model": Problem, "description": error.title, "content": {PROBLEM_MEDIA_TYPE: {}}},
        )
        if error.title not in entry["description"]:
            entry["description"] += f"; or: {error.title}"
    return documented


def document_problems(app: FastAPI) -> None:
    """Make the app's OpenAPI document say what its errors are: every 4xx and 5xx answer is
    problem+json with the Problem schema (FastAPI would document its own 422 as
    application/json HTTPValidationError), and every operation may answer 422 (a query
    parameter or body field holding text that cannot be stored is refused for any route)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            .pop("$defs", {})
            .items()
        ):
            schemas.setdefault(name, schema)
        schemas.setdefault(
            "Problem",
            {
                key: value
                for key, value in Problem.model_json_schema(
                    ref_template="#/components/schemas/{model}"
                ).items()
                if key != "$defs"
            },
        )
        problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.setdefault("422", {"description": InvalidInput.title})
                for status, response in responses.items():
                    if status[:1] in {"4", "5"}:
                        response["content"] = problem
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


# SQLSTATE classes of a database that is away rather than of a bad statement: 08 connection
# exception (the server went, or refuses us), 57 operator intervention (shut down, restarting).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "57"})


def database_unavailable(exc: BaseException) -> bool:
    """Whether a driver error means the database is away (a 503, retry shortly) rather than a
    fault of ours (a 500). A connection reset mid-statement reaches us as a plain DBAPIError,
    which SQLAlchemy marks as having invalidated its connection."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError | OSError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            instance=instance_of(request.scope),
            errors=exc.errors,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldProblem(field=field_name(error.get("loc", ())), message=str(error.get("msg")))
            for error in exc.errors()
        ]
        named = ", ".join(sorted({problem.field for problem in errors}))
        return problem_response(
            status=422,
            code=InvalidInput.code,
            title=InvalidInput.title,
            detail=f"Fields at fault: {named}",
            instance=instance_of(request.scope),
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # FastAPI turns any failure while it reads a JSON body into a bare 400: say what it was.
        cause = exc.__cause__
        if isinstance(cause, ProblemError):  # the body cap, counting a streamed body
            return await on_problem(request, cause)
        if exc.status_code == 400 and cause is not None:
            deep = isinstance(cause, RecursionError)
            return problem_response(
                status=422,
                code=InvalidInput.code,
                title=InvalidInput.title,
                detail="The JSON body is nested too deeply to be read."
                if deep
                else "The body cannot be read as JSON (it is not UTF-8 text).",
                instance=instance_of(request.scope),
                errors=[
                    FieldProblem(
                        field="body", message="nested too deeply" if deep else "not readable"
                    )
                ],
            )
        return problem_response(
            status=exc.status_code,
            code=f"http-{exc.status_code}",
            title=str(exc.detail),
            detail=str(exc.detail),
            instance=instance_of(request.scope),
        )

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("database unavailable", error_type=type(exc).__name__)
        return problem_response(
            status=503,
            code=ServiceUnavailable.code,
            title=ServiceUnavailable.title,
            detail="The database is not answering; retry shortly.",
            instance=instance_of(request.scope),
            headers={"Retry-After": "2"},
        )

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return await on_database_unavailable(request, exc)
        return await on_unexpected(request, exc)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", path=request.url.path)
        return problem_response(
            status=500,
            code="internal-error",
            title="Internal error",
            detail="The request could not be completed. It has been logged.",
            instance=instance_of(request.scope),
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError, OSError):
        app.add_exception_handler(unavailable, on_database_unavailable)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
