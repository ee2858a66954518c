"""An employee's personal record for auditors and competent authorities (department-bound
credentials: their own department's), each read logged with the reason given; and that log,
produced for the employee."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.registry.employees import service
from services.registry.employees.errors import EmployeeNotFound
from services.registry.employees.schemas import EmployeeRecordView, RecordReadEntry, RecordReadLog
from services.registry.ledger.schemas import AsOf
from services.registry.readers.auth import CurrentReader, RecordReader
from services.registry.readers.errors import RoleNotAllowed
from services.registry.readers.models import ReaderCredential
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession

router = APIRouter(prefix="/v1/employees/{employee_ref}", tags=["employees"])

EmployeeRef = Annotated[str, Path(min_length=1, max_length=64)]


async def given_reason(
    reason: Annotated[
        str,
        Query(
            max_length=1000,
            description="Why the record is read; kept in the read log the employee can see",
        ),
    ],
) -> str:
    """The reason, required and not blank: a read without a why is not allowed."""
    stated = reason.strip()
    if not stated:
        detail = "A reason for reading the employee's record is required."
        raise InvalidInput(detail, errors=[FieldProblem(field="reason", message=detail)])
    return stated


async def read_log_reader(reader: CurrentReader) -> ReaderCredential:
    """Auditors, and competent authorities bound to a department (checked against the
    employee's department by the route)."""
    if reader.role == "auditor" or (
        reader.role == "competent_authority" and reader.organisation_code is not None
    ):
        return reader
    raise RoleNotAllowed(
        "Only auditors, or the competent authority of the employee's department, may read "
        "the read log."
    )


@router.get(
    "/record",
    response_model=EmployeeRecordView,
    responses=responses_for(Unauthenticated, RoleNotAllowed, EmployeeNotFound, InvalidInput),
)
async def read_employee_record(
    employee_ref: EmployeeRef,
    reader: RecordReader,
    session: DbSession,
    reason: Annotated[str, Depends(given_reason)],
    as_of: AsOf = None,
) -> EmployeeRecordView:
    """The employee's record as the registry stood at `as_of` (default now): every version of
    their violations, the sanctions on them with their events, and their personal permissions
    with their status on as_of's date. Appeal outcomes are not included yet.

    `reason` is required. Every read is logged (credential, role, reason, time) in the same
    transaction, and the log can be produced for the employee (`/record-reads`). A
    department-bound credential reads only its own department's records (404 otherwise)."""
    moment = as_of or utcnow()
    record = await service.employee_record(
        session,
        employee_ref=employee_ref,
        department_scope=reader.organisation_code,
        as_of=moment,
        on=moment.date(),
    )
    entry = await service.log_record_read(
        session, reader=reader, employee_ref=employee_ref, reason=reason
    )
    return EmployeeRecordView.of(record, read=RecordReadEntry.model_validate(entry))


@router.get(
    "/record-reads",
    response_model=RecordReadLog,
    responses=responses_for(Unauthenticated, RoleNotAllowed, EmployeeNotFound, InvalidInput),
)
async def list_record_reads(
    employee_ref: EmployeeRef,
    reader: Annotated[ReaderCredential, Depends(read_log_reader)],
    session: DbSession,
    after: Annotated[
        uuid.UUID | None, Query(description="The `next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RecordReadLog:
    """Every read of the employee's record, oldest first: who (credential and role), when, and
    the reason given. For auditors, and for the competent authority of a department the
    registry holds records of the employee in (404 for any other)."""
    await service.require_employee_in_scope(
        session, employee_ref=employee_ref, department_scope=reader.organisation_code
    )
    reads, next_cursor = await service.record_reads(
        session, employee_ref=employee_ref, after=after, limit=limit
    )
    return RecordReadLog(
        employee_ref=employee_ref,
        items=[RecordReadEntry.model_validate(read) for read in reads],
        next_cursor=next_cursor,
    )
