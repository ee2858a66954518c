"""Recording the appellate authority's decision on a violation as an appeal outcome: a new
ledger record, never a change to the violation.

- set_aside: supersedes the current version; the violation has no current version left, so no
  sanction can be recorded on it (sanctions/service.py refuses a superseded version).
- modified: supersedes the current version and is itself the new current version, with the
  rules the finding now stands on (IS_VIOLATION_VERSION).
- upheld: supersedes nothing; linked to the version appealed (violation_id), which stays
  current.

Sanctions already recorded against a version set aside stay on the record: quashing them is
the competent authority's order, recorded as a sanction event.
"""

from __future__ import annotations

import structlog
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.registry.appeals.errors import ConflictingAppealOutcome, NoViolationToAppeal
from services.registry.ledger.entries import AppealOutcomeEntry
from services.registry.ledger.models import IS_VIOLATION_VERSION, LedgerRecord
from services.registry.ledger.service import announce_record, append_record, lock_ledger
from shared.messages import AppealDecided

logger = structlog.get_logger(__name__)


async def current_violation_of_case(
    session: AsyncSession, *, decision: AppealDecided
) -> LedgerRecord:
    """The case's violation version that nothing supersedes yet."""
    successor = aliased(LedgerRecord)
    current = await session.scalar(
        select(LedgerRecord).where(
            LedgerRecord.case_id == decision.case_id,
            IS_VIOLATION_VERSION,
            ~exists().where(successor.supersedes_id == LedgerRecord.id),
        )
    )
    if current is None:
        raise NoViolationToAppeal(
            f"Case {decision.case_id} has no current violation for its appeal outcome to act on."
        )
    return current


def finding_reasons(decision: AppealDecided) -> str:
    if decision.modified_finding is None:
        return decision.reasons
    return (
        f"Finding as modified on appeal: {decision.modified_finding}\n"
        f"Reasons of the appeal decision: {decision.reasons}"
    )


def _same_outcome(record: LedgerRecord, decision: AppealDecided) -> bool:
    return (
        record.appeal_outcome == decision.outcome
        and record.determined_by == decision.decided_by
        and record.decided_at == decision.decided_at
        and record.reasons == finding_reasons(decision)
    )


async def record_appeal_outcome(
    session: AsyncSession, *, decision: AppealDecided, correlation_id: str
) -> LedgerRecord | None:
    """Append the appeal outcome and announce it (record.created, kind appeal_outcome).

    Returns None when the ledger already holds this very outcome (a copy under another message
    id): nothing is appended or announced again. A different outcome for the same case is
    refused with ConflictingAppealOutcome.
    """
    # Under the lock, so two copies processed at once cannot both pass the checks below.
    await lock_ledger(session)
    earlier = await session.scalar(
        select(LedgerRecord).where(
            LedgerRecord.case_id == decision.case_id,
            LedgerRecord.record_kind == "appeal_outcome",
        )
    )
    if earlier is not None:
        if _same_outcome(earlier, decision):
            logger.info(
                "appeal outcome already recorded",
                case_id=str(decision.case_id),
                record_id=str(earlier.id),
            )
            return None
        raise ConflictingAppealOutcome(
            f"Case {decision.case_id} already has appeal outcome {earlier.id} "
            f"({earlier.appeal_outcome})."
        )
    appealed = await current_violation_of_case(session, decision=decision)
    # A violation version always carries the finding (the ledger's CHECK constraint).
    assert appealed.employee_ref is not None and appealed.employee_name is not None
    assert appealed.rules_cited is not None and appealed.platform is not None
    assert appealed.reported_at is not None
    rules = (
        decision.modified_rules_cited
        if decision.outcome == "modified" and decision.modified_rules_cited
        else appealed.rules_cited
    )
    record = await append_record(
        session,
        entry=AppealOutcomeEntry(
            appeal_outcome=decision.outcome,
            violation_id=appealed.id,
            supersedes_id=None if decision.outcome == "upheld" else appealed.id,
            case_id=appealed.case_id,
            submission_id=appealed.submission_id,
            department=appealed.department,
            employee_ref=appealed.employee_ref,
            employee_name=appealed.employee_name,
            rules_cited=list(rules),
            platform=appealed.platform,
            reasons=finding_reasons(decision),
            determined_by=decision.decided_by,
            # A modified finding is the same finding restated: it keeps the date it took
            # effect, so neither the sanctions' floor nor the appeal window moves with it.
            effective_on=(
                appealed.effective_on if decision.outcome == "modified" else decision.effective_on
            ),
            reported_at=appealed.reported_at,
            decided_at=decision.decided_at,
        ),
    )
    logger.info(
        "appeal outcome recorded",
        record_id=str(record.id),
        violation_id=str(appealed.id),
        appeal_outcome=decision.outcome,
    )
    await announce_record(session, record=record, correlation_id=correlation_id)
    return record
