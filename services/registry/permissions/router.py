"""Permission endpoints: official accounts per department (any reader; moderators' names only
for auditors and competent authorities), permissions granted and refused, and whether a grant
covered an account on a date (auditors and competent authorities: personal data), all as the
registry stood at any moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.ledger.models import PermissionRecordKind
from services.registry.ledger.schemas import AsOf
from services.registry.permissions import service
from services.registry.permissions.schemas import (
    OfficialAccountPage,
    OfficialAccountRead,
    On,
    PermissionCheckRead,
    PermissionPage,
    PermissionRead,
)
from services.registry.readers.auth import CurrentReader, RecordReader
from services.registry.readers.errors import OutsideOrganisation, RoleNotAllowed
from services.registry.readers.models import ReaderCredential
from shared.db import BIGINT_MAX, utcnow
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession

official_accounts_router = APIRouter(prefix="/v1/official-accounts", tags=["permissions"])
permissions_router = APIRouter(prefix="/v1/permissions", tags=["permissions"])

Department = Annotated[str | None, Query(max_length=64)]
Platform = Annotated[str | None, Query(max_length=16)]
After = Annotated[
    int | None,
    Query(ge=0, le=BIGINT_MAX, description="The `next_cursor` of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=200)]
# Roles that may read personal data (employees, moderators' names).
PERSONAL_DATA_ROLES = ("auditor", "competent_authority")


def within_organisation(reader: ReaderCredential, department: str | None) -> None:
    """A department-bound credential may not ask about another department."""
    if (
        department is not None
        and reader.organisation_code is not None
        and department != reader.organisation_code
    ):
        raise OutsideOrganisation(f"This credential reads only {reader.organisation_code}.")


def moment_and_date(as_of: datetime | None, on: date | None) -> tuple[datetime, date]:
    moment = as_of or utcnow()
    return moment, on or moment.astimezone(UTC).date()


@official_accounts_router.get(
    "",
    response_model=OfficialAccountPage,
    responses=responses_for(Unauthenticated, OutsideOrganisation, InvalidInput),
)
async def list_official_accounts(
    reader: CurrentReader,
    session: DbSession,
    department: Department = None,
    platform: Platform = None,
    status: Annotated[
        service.AccountStatus | None, Query(description="Status on the date `on`")
    ] = None,
    as_of: AsOf = None,
    on: On = None,
    after: After = None,
    limit: Limit = 50,
) -> OfficialAccountPage:
    """Official accounts granted to departments, as the registry stood at `as_of` (default
    now): each with its platform, handle, purpose, moderators, period and whether it is
    active, upcoming or expired on `on`. A renewal replaces the record it renews, so each
    account appears once; the account is active on any date a grant for it covers, so one
    renewed ahead of its expiry stays active until the renewal begins. Any reader may list them (they are an organisation's public
    accounts); dashboard credentials get the number of moderators but not their names. A
    credential bound to a department sees only that department's accounts. Pages are cut on
    the ledger sequence: pass the page's `as_of` back with `after`."""
    within_organisation(reader, department)
    moment, day = moment_and_date(as_of, on)
    versions, next_cursor = await service.list_official_accounts(
        session,
        department_scope=reader.organisation_code,
        as_of=moment,
        on=day,
        department=department,
        platform=platform,
        status=status,
        after=after,
        limit=limit,
    )
    with_moderators = reader.role in PERSONAL_DATA_ROLES
    return OfficialAccountPage(
        items=[OfficialAccountRead.of(v, with_moderators=with_moderators) for v in versions],
        next_cursor=next_cursor,
        as_of=moment,
        on=day,
    )


@permissions_router.get(
    "",
    response_model=PermissionPage,
    responses=responses_for(Unauthenticated, RoleNotAllowed, OutsideOrganisation, InvalidInput),
)
async def list_permissions(
    reader: RecordReader,
    session: DbSession,
    employee_ref: Annotated[str | None, Query(max_length=64)] = None,
    department: Department = None,
    platform: Platform = None,
    kind: Annotated[
        PermissionRecordKind | None,
        Query(description="permission (personal) or official_account"),
    ] = None,
    status: Annotated[
        service.PermissionStatus | None, Query(description="Status on the date `on`")
    ] = None,
    expiring_within_days: Annotated[
        int | None,
        Query(
            ge=0,
            le=3660,
            description="Only grants active on `on` that expire within this many days of it",
        ),
    ] = None,
    as_of: AsOf = None,
    on: On = None,
    after: After = None,
    limit: Limit = 50,
) -> PermissionPage:
    """Permission decisions in ledger order, granted and refused, personal and for official
    accounts, as the registry stood at `as_of` (default now), each with its status on `on`:
    refused, superseded (by a renewal), upcoming, active or expired. Filter by employee,
    department, platform, kind, status, or grants expiring within some days. Personal data:
    auditors and competent authorities only."""
    within_organisation(reader, department)
    moment, day = moment_and_date(as_of, on)
    versions, next_cursor = await service.list_permissions(
        session,
        department_scope=reader.organisation_code,
        as_of=moment,
        on=day,
        kind=kind,
        employee_ref=employee_ref,
        department=department,
        platform=platform,
        status=status,
        expiring_within_days=expiring_within_days,
        after=after,
        limit=limit,
    )
    return PermissionPage(
        items=[PermissionRead.of(version) for version in versions],
        next_cursor=next_cursor,
        as_of=moment,
        on=day,
    )


@permissions_router.get(
    "/check",
    response_model=PermissionCheckRead,
    responses=responses_for(Unauthenticated, RoleNotAllowed, InvalidInput),
)
async def check_permission(
    reader: RecordReader,
    session: DbSession,
    platform: Annotated[str, Query(min_length=1, max_length=16)],
    account_handle: Annotated[str, Query(min_length=1, max_length=200)],
    on: Annotated[date, Query(description="The date asked about (YYYY-MM-DD)")],
    employee_ref: Annotated[
        str | None,
        Query(max_length=64, description="Only this employee's personal permissions count"),
    ] = None,
    as_of: AsOf = None,
) -> PermissionCheckRead:
    """Was this account permitted on `on`? True if a grant recorded by `as_of` (default now)
    covered it that day (valid_from to expires_on inclusive), naming the newest such grant.
    Handles match without case or a leading '@'. A grant covers its own period even after a
    renewal superseded it. A credential bound to a department sees only that department's
    grants. For review's triage of a report: personal data, so auditors and competent
    authorities only."""
    moment = as_of or utcnow()
    coverage = await service.check_coverage(
        session,
        department_scope=reader.organisation_code,
        as_of=moment,
        on=on,
        platform=platform,
        account_handle=account_handle,
        employee_ref=employee_ref,
    )
    return PermissionCheckRead(
        permitted=coverage.permitted,
        on=on,
        platform=platform,
        account_handle=account_handle,
        employee_ref=employee_ref,
        as_of=moment,
        record=None if coverage.grant is None else PermissionRead.of(coverage.grant),
    )
