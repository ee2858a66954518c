"""Reading permission records back, as the registry stood at any moment: official accounts per
department, permissions (personal and official, granted and refused), and whether a grant
covered an account on a given date.

Two clocks, as everywhere in the ledger: `as_of` picks the records recorded by then (and the
renewals that superseded them by then); `on` is the date in the world that statuses are judged
on (default: as_of's date in UTC). A grant is active on a date from its valid_from to its
expires_on inclusive (no expiry: until superseded), upcoming before, expired after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.registry.ledger.models import PERMISSION_KINDS, LedgerRecord, PermissionRecordKind

PermissionStatus = Literal["active", "upcoming", "expired", "refused", "superseded"]
AccountStatus = Literal["active", "upcoming", "expired"]


@dataclass(frozen=True)
class PermissionVersion:
    """A permission record as the registry stood at some moment, judged on some date."""

    record: LedgerRecord
    superseded_by: uuid.UUID | None
    status: PermissionStatus


@dataclass(frozen=True)
class Coverage:
    """Whether a grant covered an account on a date, and the grant that did."""

    permitted: bool
    grant: PermissionVersion | None


def normalised_handle(handle: str) -> str:
    """One spelling per account: handles are matched without case or a leading '@'."""
    return handle.strip().lstrip("@").lower()


def _handle_of(record: type[LedgerRecord]) -> ColumnElement[str]:
    return func.lower(func.ltrim(func.btrim(record.account_handle), "@"))


def _covers(record: type[LedgerRecord], on: date) -> ColumnElement[bool]:
    """The record is a grant whose period includes the date."""
    return and_(
        record.decision != "refused",
        record.effective_on <= on,
        or_(record.expires_on.is_(None), record.expires_on >= on),
    )


def _superseded_by(as_of: datetime) -> ScalarSelect[uuid.UUID]:
    """The record superseding the outer one, if recorded by as_of."""
    successor = aliased(LedgerRecord)
    return (
        select(successor.id)
        .where(successor.supersedes_id == LedgerRecord.id, successor.recorded_at <= as_of)
        .correlate(LedgerRecord)
        .scalar_subquery()
    )


def _decisions(*, as_of: datetime, on: date) -> Select[Any]:
    """Permission records recorded by as_of, each with its successor recorded by then and its
    own status on the date `on`."""
    superseded_by = _superseded_by(as_of)
    status = case(
        (LedgerRecord.decision == "refused", literal("refused")),
        (superseded_by.is_not(None), literal("superseded")),
        (LedgerRecord.effective_on > on, literal("upcoming")),
        (LedgerRecord.expires_on < on, literal("expired")),
        else_=literal("active"),
    )
    return (
        select(LedgerRecord, superseded_by.label("superseded_by"), status.label("status"))
        .where(
            LedgerRecord.record_kind.in_(PERMISSION_KINDS),
            LedgerRecord.recorded_at <= as_of,
        )
        .order_by(LedgerRecord.sequence)
    )


def _current_accounts(*, as_of: datetime, on: date) -> Select[Any]:
    """Granted official accounts recorded by as_of and not superseded by then, each with the
    account's status on `on`: active if any grant recorded by then for the department's same
    platform and handle covers the date. So an account renewed ahead of its expiry stays
    active until the renewal begins, though the renewal is already its current record."""
    grant = aliased(LedgerRecord)
    covered = (
        select(grant.id)
        .where(
            grant.record_kind == "official_account",
            grant.recorded_at <= as_of,
            grant.department == LedgerRecord.department,
            func.lower(grant.platform) == func.lower(LedgerRecord.platform),
            _handle_of(grant) == _handle_of(LedgerRecord),
            _covers(grant, on),
        )
        .correlate(LedgerRecord)
        .exists()
    )
    status = case(
        (covered, literal("active")),
        (LedgerRecord.effective_on > on, literal("upcoming")),
        else_=literal("expired"),
    )
    superseded_by = _superseded_by(as_of)
    return (
        select(LedgerRecord, superseded_by.label("superseded_by"), status.label("status"))
        .where(
            LedgerRecord.record_kind == "official_account",
            LedgerRecord.decision != "refused",
            LedgerRecord.recorded_at <= as_of,
            superseded_by.is_(None),
        )
        .order_by(LedgerRecord.sequence)
    )


async def _page(
    session: AsyncSession, query: Select[Any], *, after: int | None, limit: int
) -> tuple[list[PermissionVersion], int | None]:
    """One page cut on the ledger sequence, and the cursor of the next (None: the last)."""
    if after is not None:
        query = query.where(LedgerRecord.sequence > after)
    # One row beyond the page tells whether another page follows.
    rows = (await session.execute(query.limit(limit + 1))).all()
    page = [
        PermissionVersion(record=row[0], superseded_by=row[1], status=row[2])
        for row in rows[:limit]
    ]
    return page, (page[-1].record.sequence if len(rows) > limit else None)


def _status_of(query: Select[Any]) -> ColumnElement[str]:
    status: ColumnElement[str] = query.selected_columns.status
    return status


async def list_official_accounts(
    session: AsyncSession,
    *,
    department_scope: str | None,
    as_of: datetime,
    on: date,
    department: str | None = None,
    platform: str | None = None,
    status: AccountStatus | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[PermissionVersion], int | None]:
    """Granted official accounts, one current record each (a renewal replaces the record it
    renews), in ledger order. Refused requests are not accounts and are not listed."""
    query = _current_accounts(as_of=as_of, on=on)
    for column, wanted in (
        (LedgerRecord.department, department_scope),
        (LedgerRecord.department, department),
        (LedgerRecord.platform, platform),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    if status is not None:
        query = query.where(_status_of(query) == status)
    return await _page(session, query, after=after, limit=limit)


async def list_permissions(
    session: AsyncSession,
    *,
    department_scope: str | None,
    as_of: datetime,
    on: date,
    kind: PermissionRecordKind | None = None,
    employee_ref: str | None = None,
    department: str | None = None,
    platform: str | None = None,
    status: PermissionStatus | None = None,
    expiring_within_days: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[PermissionVersion], int | None]:
    """Permission records of both kinds, granted and refused, in ledger order.

    expiring_within_days keeps the grants active on `on` whose expiry falls within that many
    days of it (0: expiring that very day); a grant superseded by its renewal is not expiring.
    """
    query = _decisions(as_of=as_of, on=on)
    for column, wanted in (
        (LedgerRecord.department, department_scope),
        (LedgerRecord.department, department),
        (LedgerRecord.record_kind, kind),
        (LedgerRecord.employee_ref, employee_ref),
        (LedgerRecord.platform, platform),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    if status is not None:
        query = query.where(_status_of(query) == status)
    if expiring_within_days is not None:
        query = query.where(
            _status_of(query) == "active",
            LedgerRecord.expires_on <= on + timedelta(days=expiring_within_days),
        )
    return await _page(session, query, after=after, limit=limit)


async def check_coverage(
    session: AsyncSession,
    *,
    department_scope: str | None,
    as_of: datetime,
    on: date,
    platform: str,
    account_handle: str,
    employee_ref: str | None = None,
) -> Coverage:
    """Whether a grant recorded by as_of covered the account on `on`, and the newest that did.

    A grant covers the dates of its own period even after a renewal superseded it: a renewal
    changes what is current, not what was permitted before. With employee_ref, only that
    employee's personal permissions count; without it, any grant for the account (personal or
    official) does.
    """
    query = _decisions(as_of=as_of, on=on).where(
        func.lower(LedgerRecord.platform) == platform.strip().lower(),
        _handle_of(LedgerRecord) == normalised_handle(account_handle),
        _covers(LedgerRecord, on),
    )
    if department_scope is not None:
        query = query.where(LedgerRecord.department == department_scope)
    if employee_ref is not None:
        query = query.where(
            LedgerRecord.record_kind == "permission", LedgerRecord.employee_ref == employee_ref
        )
    row = (
        await session.execute(query.order_by(None).order_by(LedgerRecord.sequence.desc()))
    ).first()
    if row is None:
        return Coverage(permitted=False, grant=None)
    return Coverage(
        permitted=True,
        grant=PermissionVersion(record=row[0], superseded_by=row[1], status=row[2]),
    )
