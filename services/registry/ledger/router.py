"""Ledger endpoints: violations for auditors and competent authorities (each bound to its
department, or to all), as the registry stood at any moment; chain verification for
auditors."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from services.registry.checkpoints.schemas import CheckpointList, CheckpointRead
from services.registry.checkpoints.service import check_latest_checkpoint, recent_checkpoints
from services.registry.ledger import export, service, verification
from services.registry.ledger.errors import ViolationNotFound
from services.registry.ledger.schemas import (
    AsOf,
    ChainVerificationRead,
    CheckpointCheckRead,
    ViolationPage,
    ViolationRead,
)
from services.registry.readers.auth import Auditor, RecordReader
from services.registry.readers.errors import OutsideOrganisation, RoleNotAllowed
from services.registry.settings import RegistrySettings, current_settings
from shared.db import BIGINT_MAX, utcnow
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession, Resources

violations_router = APIRouter(prefix="/v1/violations", tags=["violations"])
audit_router = APIRouter(prefix="/v1/audit", tags=["audit"])
Settings = Annotated[RegistrySettings, Depends(current_settings)]


async def visible_violation(
    record_id: uuid.UUID, reader: RecordReader, session: DbSession, as_of: AsOf = None
) -> service.RecordVersion:
    """The violation version as of the moment asked about, if the reader may see it."""
    return await service.get_violation(
        session, record_id=record_id, department_scope=reader.organisation_code, as_of=as_of
    )


VisibleViolation = Annotated[service.RecordVersion, Depends(visible_violation)]


@violations_router.get(
    "",
    response_model=ViolationPage,
    responses=responses_for(Unauthenticated, RoleNotAllowed, OutsideOrganisation, InvalidInput),
)
async def list_violations(
    reader: RecordReader,
    session: DbSession,
    department: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=64, description="A rule code cited")] = None,
    platform: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[
        service.ViolationStatus | None,
        Query(description="Only versions current, or only those superseded, as of `as_of`"),
    ] = None,
    as_of: AsOf = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=BIGINT_MAX, description="The `next_cursor` of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ViolationPage:
    """Recorded violations in ledger order, as the registry stood at `as_of` (default now):
    each version of a violation (the original and its corrections) with whether it was still
    current then. Optionally filtered by department, cited rule, platform and status. A
    credential bound to a department sees only that department's violations. Pages are cut on
    the ledger sequence, so they stay stable while records are appended; pass the page's
    `as_of` back with `after` to read every page as of the same moment."""
    if (
        department is not None
        and reader.organisation_code is not None
        and department != reader.organisation_code
    ):
        raise OutsideOrganisation(f"This credential reads only {reader.organisation_code}.")
    moment = as_of or utcnow()
    versions, next_cursor = await service.list_violations(
        session,
        department_scope=reader.organisation_code,
        as_of=moment,
        department=department,
        rule=rule,
        platform=platform,
        status=status,
        after=after,
        limit=limit,
    )
    return ViolationPage(
        items=[ViolationRead.of(version) for version in versions],
        next_cursor=next_cursor,
        as_of=moment,
    )


@violations_router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={
        **responses_for(Unauthenticated, RoleNotAllowed, OutsideOrganisation, InvalidInput),
        200: {"content": {"text/csv": {}}, "description": "CSV"},
    },
)
async def export_violations(
    reader: RecordReader,
    resources: Resources,
    settings: Settings,
    department: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=64, description="A rule code cited")] = None,
    platform: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[
        service.ViolationStatus | None,
        Query(description="Only versions current, or only those superseded, as of `as_of`"),
    ] = None,
    as_of: AsOf = None,
) -> StreamingResponse:
    """Every violation version GET /v1/violations would list with the same filters, as one
    CSV in ledger order (`id, sequence, record_kind, department, case_id, employee_ref,
    employee_name, rules_cited` (`;`-separated)`, platform, effective_on, recorded_at,
    reported_at, reasons, status, superseded_by, supersedes_id, appeal_outcome`), streamed
    while the database produces it. A credential bound to a department exports only that
    department's violations. Text cells that a spreadsheet would run as formulas start with a
    quote."""
    if (
        department is not None
        and reader.organisation_code is not None
        and department != reader.organisation_code
    ):
        raise OutsideOrganisation(f"This credential reads only {reader.organisation_code}.")
    versions = service.filtered_versions(
        department_scope=reader.organisation_code,
        as_of=as_of or utcnow(),
        department=department,
        rule=rule,
        platform=platform,
        status=status,
    )
    return StreamingResponse(
        export.stream_csv(
            resources.sessionmaker,
            query=export.export_rows(versions),
            timeout_seconds=settings.export_timeout_seconds,
        ),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="violations.csv"'},
    )


@violations_router.get(
    "/{record_id}",
    response_model=ViolationRead,
    responses=responses_for(Unauthenticated, RoleNotAllowed, ViolationNotFound),
)
async def read_violation(version: VisibleViolation) -> ViolationRead:
    """One violation version as the registry stood at `as_of` (default now), if the credential
    may read its department: 404 if it had not been recorded by then."""
    return ViolationRead.of(version)


@audit_router.get(
    "/verify",
    response_model=ChainVerificationRead,
    responses=responses_for(Unauthenticated, RoleNotAllowed),
)
async def verify_chain(
    auditor: Auditor, session: DbSession, settings: Settings
) -> ChainVerificationRead:
    """Recompute the whole hash chain from the first record and say whether it is intact.

    A broken chain names its first broken link (sequence, id and why). `head_hash` is the
    chain hash of the last intact record: an auditor who keeps it can later prove that the
    ledger was extended, not rewritten."""
    chain = await verification.verify_ledger_in_database(session, segments=settings.verify_segments)
    checkpoint = await check_latest_checkpoint(session)
    read = ChainVerificationRead.model_validate(chain)
    if checkpoint is None:
        return read
    return read.model_copy(
        update={
            "checkpoint": CheckpointCheckRead.model_validate(checkpoint),
            "status": read.status if checkpoint.holds else "broken",
        }
    )


@audit_router.get(
    "/checkpoints",
    response_model=CheckpointList,
    responses=responses_for(Unauthenticated, RoleNotAllowed),
)
async def list_checkpoints(
    auditor: Auditor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> CheckpointList:
    """The latest signed checkpoints of the ledger's head, newest first. Keep them: each proves
    the ledger then held at least `record_count` records ending in `head_hash`."""
    checkpoints = await recent_checkpoints(session, limit=limit)
    return CheckpointList(items=[CheckpointRead.model_validate(c) for c in checkpoints])
