"""An employee's personal record as the registry stood at any moment: the versions of their
violations (current and superseded), the sanctions on them with their events, and their
personal permissions (active, upcoming, expired, refused, superseded); and the log of who read
that record, when and why.

Every read of the record is logged in the same transaction that reads it, so a record is never
produced without its log row. Appeal outcomes are not part of the record yet: the ledger on
this branch has no kind for them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.registry.employees.errors import EmployeeNotFound
from services.registry.employees.models import EmployeeRecordRead
from services.registry.ledger.models import IS_VIOLATION_VERSION, LedgerRecord
from services.registry.ledger.service import RecordVersion
from services.registry.permissions.service import PermissionVersion, list_permissions
from services.registry.readers.models import ReaderCredential
from services.registry.sanctions.service import SanctionHistory, history_of
from shared.db import utcnow

# Permission records fetched per round trip while the record is put together.
PERMISSIONS_PAGE = 200


@dataclass(frozen=True)
class EmployeeRecord:
    employee_ref: str
    as_of: datetime
    on: date
    violations: list[RecordVersion]
    sanctions: list[SanctionHistory]
    permissions: list[PermissionVersion]


async def _violations(
    session: AsyncSession, *, employee_ref: str, department_scope: str | None, as_of: datetime
) -> list[RecordVersion]:
    successor = aliased(LedgerRecord)
    superseded_by = (
        select(successor.id)
        .where(successor.supersedes_id == LedgerRecord.id, successor.recorded_at <= as_of)
        .correlate(LedgerRecord)
        .scalar_subquery()
    )
    query = select(LedgerRecord, superseded_by.label("superseded_by")).where(
        IS_VIOLATION_VERSION,
        LedgerRecord.employee_ref == employee_ref,
        LedgerRecord.recorded_at <= as_of,
    )
    if department_scope is not None:
        query = query.where(LedgerRecord.department == department_scope)
    rows = (await session.execute(query.order_by(LedgerRecord.sequence))).all()
    return [RecordVersion(record=row[0], superseded_by=row[1]) for row in rows]


async def _sanctions(
    session: AsyncSession, *, violation_ids: list[uuid.UUID], as_of: datetime
) -> list[SanctionHistory]:
    """Every sanction imposed on any version of the violations, with its events by as_of."""
    if not violation_ids:
        return []
    events = (
        await session.scalars(
            select(LedgerRecord)
            .where(
                LedgerRecord.record_kind == "sanction_event",
                LedgerRecord.violation_id.in_(violation_ids),
                LedgerRecord.recorded_at <= as_of,
            )
            .order_by(LedgerRecord.sequence)
        )
    ).all()
    by_sanction: defaultdict[uuid.UUID, list[LedgerRecord]] = defaultdict(list)
    for event in events:
        assert event.sanction_id is not None
        by_sanction[event.sanction_id].append(event)
    histories = []
    for sanction_id, sanction_events in by_sanction.items():
        violation_id = sanction_events[0].violation_id
        assert violation_id is not None
        histories.append(
            history_of(sanction_id=sanction_id, violation_id=violation_id, events=sanction_events)
        )
    return histories


async def _permissions(
    session: AsyncSession,
    *,
    employee_ref: str,
    department_scope: str | None,
    as_of: datetime,
    on: date,
) -> list[PermissionVersion]:
    found: list[PermissionVersion] = []
    after: int | None = None
    while True:
        page, after = await list_permissions(
            session,
            department_scope=department_scope,
            as_of=as_of,
            on=on,
            kind="permission",
            employee_ref=employee_ref,
            after=after,
            limit=PERMISSIONS_PAGE,
        )
        found.extend(page)
        if after is None:
            return found


async def employee_record(
    session: AsyncSession,
    *,
    employee_ref: str,
    department_scope: str | None,
    as_of: datetime,
    on: date,
) -> EmployeeRecord:
    """The employee's record within the reader's department (None: all), as of a moment; 404
    if it holds nothing of them then, whether they are unknown or another department's."""
    violations = await _violations(
        session, employee_ref=employee_ref, department_scope=department_scope, as_of=as_of
    )
    permissions = await _permissions(
        session, employee_ref=employee_ref, department_scope=department_scope, as_of=as_of, on=on
    )
    if not violations and not permissions:
        raise EmployeeNotFound(f"No record of employee {employee_ref} for this credential.")
    sanctions = await _sanctions(
        session, violation_ids=[version.record.id for version in violations], as_of=as_of
    )
    return EmployeeRecord(
        employee_ref=employee_ref,
        as_of=as_of,
        on=on,
        violations=violations,
        sanctions=sanctions,
        permissions=permissions,
    )


async def log_record_read(
    session: AsyncSession, *, reader: ReaderCredential, employee_ref: str, reason: str
) -> EmployeeRecordRead:
    """Append who read the employee's record, as what, when and why."""
    entry = EmployeeRecordRead(
        reader_credential_id=reader.id,
        reader_label=reader.label,
        reader_role=reader.role,
        employee_ref=employee_ref,
        reason=reason,
        read_at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def require_employee_in_scope(
    session: AsyncSession, *, employee_ref: str, department_scope: str | None
) -> None:
    """404 unless the ledger names the employee (a finding or a personal permission) in the
    department, or anywhere for an unbound credential."""
    query = select(LedgerRecord.id).where(LedgerRecord.employee_ref == employee_ref)
    if department_scope is not None:
        query = query.where(LedgerRecord.department == department_scope)
    if await session.scalar(query.limit(1)) is None:
        raise EmployeeNotFound(f"No record of employee {employee_ref} for this credential.")


async def record_reads(
    session: AsyncSession, *, employee_ref: str, after: uuid.UUID | None, limit: int
) -> tuple[list[EmployeeRecordRead], uuid.UUID | None]:
    """One page of the employee's read log, oldest first (keyset on read time and id), and
    the next page's cursor (the id of the page's last read; None on the last page)."""
    query = select(EmployeeRecordRead).where(EmployeeRecordRead.employee_ref == employee_ref)
    if after is not None:
        previous = await session.get(EmployeeRecordRead, after)
        if previous is not None and previous.employee_ref == employee_ref:
            query = query.where(
                tuple_(EmployeeRecordRead.read_at, EmployeeRecordRead.id)
                > tuple_(literal(previous.read_at), literal(previous.id))
            )
    rows = list(
        (
            await session.scalars(
                query.order_by(EmployeeRecordRead.read_at, EmployeeRecordRead.id).limit(limit + 1)
            )
        ).all()
    )
    page = rows[:limit]
    return page, (page[-1].id if len(rows) > limit else None)
