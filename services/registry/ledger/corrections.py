"""Corrections: a new version of a violation that supersedes the current one.

The ledger never changes a record, so a correction repeats the violation with what is corrected
and points at the version it replaces; readers see the old version as superseded from the
moment the correction was recorded. Internal for now (no endpoint). Appeal outcomes supersede
records the same way (services/registry/appeals/), and a version modified on appeal can itself
be corrected.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ledger.entries import RecordEntry
from services.registry.ledger.errors import RecordAlreadySuperseded, ViolationNotFound
from services.registry.ledger.models import IS_VIOLATION_VERSION, LedgerRecord
from services.registry.ledger.service import append_record, lock_ledger


async def append_correction(
    session: AsyncSession,
    *,
    supersedes: uuid.UUID,
    reasons: str,
    corrected_by: uuid.UUID,
    employee_ref: str | None = None,
    employee_name: str | None = None,
    rules_cited: list[str] | None = None,
    platform: str | None = None,
    effective_on: date | None = None,
) -> LedgerRecord:
    """Supersede the current version of a violation with a corrected one.

    Fields not given keep the superseded version's values; `reasons` says why it was
    corrected and `corrected_by` who corrected it (recorded as the deciding officer; nobody
    countersigns a correction yet). Refused if the version is not a violation's, or already
    superseded: the correction must then supersede the version that replaced it.
    """
    # Under the lock, so two corrections of one version cannot both pass the check below.
    await lock_ledger(session)
    previous = await session.scalar(
        select(LedgerRecord).where(LedgerRecord.id == supersedes, IS_VIOLATION_VERSION)
    )
    if previous is None:
        raise ViolationNotFound(f"No violation {supersedes} to correct.")
    successor = await session.scalar(
        select(LedgerRecord.id).where(LedgerRecord.supersedes_id == previous.id)
    )
    if successor is not None:
        raise RecordAlreadySuperseded(
            f"Record {previous.id} was already superseded by {successor}; correct that instead."
        )
    # A violation version always carries the finding (the ledger's CHECK constraint).
    assert previous.employee_ref is not None and previous.employee_name is not None
    assert previous.rules_cited is not None and previous.platform is not None
    assert previous.reported_at is not None
    entry = RecordEntry(
        record_kind="correction",
        case_id=previous.case_id,
        submission_id=previous.submission_id,
        department=previous.department,
        employee_ref=employee_ref or previous.employee_ref,
        employee_name=employee_name or previous.employee_name,
        rules_cited=list(rules_cited or previous.rules_cited),
        platform=platform or previous.platform,
        reasons=reasons,
        determined_by=corrected_by,
        countersigned_by=None,
        effective_on=effective_on or previous.effective_on,
        reported_at=previous.reported_at,
        supersedes_id=previous.id,
    )
    return await append_record(session, entry=entry)
