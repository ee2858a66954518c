"""Recording review's permission decisions in the ledger: a personal permission or an official
account, granted or refused, exactly once per case.

Renewals: a request may name the permission record it renews (`renewal_of`). Every renewal
keeps that link; a granted renewal also supersedes the record it renews, as a correction
supersedes a violation, so lists show one current record per permission while the earlier one
stays in the chain (and still answers for the dates it covered). A refused renewal supersedes
nothing: the earlier permission runs to its own expiry. A link that names no permission record
of the same kind and department (and, for a personal permission, the same employee) is not
kept: the decision is recorded all the same, as a new permission.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ledger.entries import PermissionEntry
from services.registry.ledger.models import PERMISSION_KINDS, LedgerRecord, PermissionRecordKind
from services.registry.ledger.service import announce_record, append_record, lock_ledger
from services.registry.permissions.errors import (
    ConflictingPermissionDecision,
    MalformedPermissionDecision,
)
from shared.messages import PermissionDecided

logger = structlog.get_logger(__name__)


def permission_entry(
    decision: PermissionDecided, *, renewal_of: uuid.UUID | None, supersedes_id: uuid.UUID | None
) -> PermissionEntry:
    """The ledger entry for a decision, refused if the ledger could not hold it as sent."""
    if decision.expires_on is not None and decision.expires_on < decision.valid_from:
        raise MalformedPermissionDecision(
            f"Case {decision.case_id}: expires_on {decision.expires_on} is before valid_from "
            f"{decision.valid_from}."
        )
    record_kind: PermissionRecordKind
    employee_ref: str | None
    employee_name: str | None
    if decision.kind == "personal":
        if decision.applicant is None:
            raise MalformedPermissionDecision(
                f"Case {decision.case_id}: a personal permission must name its applicant."
            )
        record_kind = "permission"
        employee_ref, employee_name = decision.applicant.employee_ref, decision.applicant.name
        moderators = None
    else:
        record_kind = "official_account"
        employee_ref = employee_name = None
        moderators = [moderator.model_dump(mode="json") for moderator in decision.moderators]
    return PermissionEntry(
        record_kind=record_kind,
        case_id=decision.case_id,
        submission_id=decision.submission_id,
        department=decision.department,
        decision=decision.decision,
        conditions=list(decision.conditions),
        reasons=decision.reasons,
        platform=decision.platform,
        account_handle=decision.account_handle,
        account_url=decision.account_url,
        purpose=decision.purpose,
        account_purpose=decision.account_purpose,
        moderators=moderators,
        employee_ref=employee_ref,
        employee_name=employee_name,
        valid_from=decision.valid_from,
        expires_on=decision.expires_on,
        renewal_of=renewal_of,
        supersedes_id=supersedes_id,
        determined_by=decision.decided_by,
        decided_at=decision.decided_at,
    )


def _same_decision(record: LedgerRecord, entry: PermissionEntry) -> bool:
    return (
        record.record_kind == entry.record_kind
        and record.submission_id == entry.submission_id
        and record.decision == entry.decision
        and record.platform == entry.platform
        and record.account_handle == entry.account_handle
        and record.employee_ref == entry.employee_ref
        and record.effective_on == entry.valid_from
        and record.expires_on == entry.expires_on
        and record.determined_by == entry.determined_by
        and record.reasons == entry.reasons
    )


async def _renewal_links(
    session: AsyncSession, *, decision: PermissionDecided, record_kind: str
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(renewal_of, supersedes_id) for the entry: the renewed record if it is a permission
    record of the same kind, department (and employee), and the same again if this grant
    supersedes it."""
    if decision.renewal_of is None:
        return None, None
    renewed = await session.scalar(
        select(LedgerRecord).where(
            LedgerRecord.id == decision.renewal_of,
            LedgerRecord.record_kind == record_kind,
            LedgerRecord.department == decision.department,
        )
    )
    if (
        renewed is not None
        and renewed.record_kind == "permission"
        and (decision.applicant is None or renewed.employee_ref != decision.applicant.employee_ref)
    ):
        # A personal permission is renewed only for the employee who held it.
        renewed = None
    if renewed is None:
        logger.warning(
            "renewal names no permission record of its kind and department; not linked",
            case_id=str(decision.case_id),
            renewal_of=str(decision.renewal_of),
        )
        return None, None
    if decision.decision == "refused" or renewed.decision == "refused":
        return renewed.id, None
    successor = await session.scalar(
        select(LedgerRecord.id).where(LedgerRecord.supersedes_id == renewed.id)
    )
    if successor is not None:
        # Renewed once already: history stays linear, so this grant is linked, not superseding.
        logger.warning(
            "renewed record already superseded; linked only",
            case_id=str(decision.case_id),
            renewal_of=str(renewed.id),
            superseded_by=str(successor),
        )
        return renewed.id, None
    return renewed.id, renewed.id


async def record_permission_decision(
    session: AsyncSession, *, decision: PermissionDecided, correlation_id: str
) -> LedgerRecord | None:
    """Append the decision (granted or refused) and announce it with record.created.

    Returns None when the ledger already holds this very decision (a copy sent under another
    message id): nothing is appended or announced again. A different decision for a case
    already recorded is refused with ConflictingPermissionDecision.
    """
    # Under the lock, so two copies processed at once cannot both pass the check below.
    await lock_ledger(session)
    record_kind = "permission" if decision.kind == "personal" else "official_account"
    renewal_of, supersedes_id = await _renewal_links(
        session, decision=decision, record_kind=record_kind
    )
    entry = permission_entry(decision, renewal_of=renewal_of, supersedes_id=supersedes_id)
    earlier = await session.scalar(
        select(LedgerRecord).where(
            LedgerRecord.case_id == decision.case_id,
            LedgerRecord.record_kind.in_(PERMISSION_KINDS),
        )
    )
    if earlier is not None:
        if _same_decision(earlier, entry):
            logger.info(
                "permission decision already recorded",
                case_id=str(decision.case_id),
                record_id=str(earlier.id),
            )
            return None
        raise ConflictingPermissionDecision(
            f"Case {decision.case_id} already has {earlier.record_kind} record {earlier.id} "
            f"({earlier.decision}); a different decision cannot be recorded for it."
        )
    record = await append_record(session, entry=entry)
    await announce_record(session, record=record, correlation_id=correlation_id)
    return record
