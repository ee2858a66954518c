"""Retention by outcome: which cases' records are due to lose their personal data, a dry-run
preview of them, and the purge itself.

A case is due when its outcome cleared the employee and took effect at least `cleared_days`
days ago: a cleared finding, or a violation set aside on appeal (the appeal outcome's date).
Dismissed cases never reach the registry (they end in review), so there is nothing of them
here to purge. Every record of a due case that still holds personal data is purged: its
determination or versions, the appeal outcome, and its sanction events' reasons.

A purge sets the personal columns and the salt to null (the only UPDATE the ledger's trigger
lets through, and only under `registry.retention_purge`), and appends, in the same transaction
and under the ledger's lock, one `retention_purge` record per case naming the records purged
and the policy. No hash changes: the chain verifies after a purge as before it
(services/registry/ledger/chain.py). A second run finds nothing more to purge.

A preview carries a digest of exactly what it lists; a run given that digest refuses to purge
anything else (PreviewOutdated), so what is applied is what was shown.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ledger.chain import PERSONAL_FIELDS
from services.registry.ledger.entries import RetentionPurgeEntry
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import append_records, lock_ledger
from services.registry.retention.errors import PreviewOutdated

ClearedOutcome = Literal["cleared_finding", "set_aside"]
# The kinds of record a case's purge reaches (permission decisions are cases of their own).
PURGEABLE_KINDS = ("violation", "cleared_finding", "correction", "appeal_outcome", "sanction_event")
SCHEDULED_LABEL = "registry retention schedule"
PURGE_CHUNK = 5_000


@dataclass(frozen=True)
class RetentionPolicy:
    cleared_days: int

    def describe(self) -> dict[str, Any]:
        return {"policy": "cleared_outcomes", "cleared_days": self.cleared_days}


@dataclass(frozen=True)
class DueCase:
    """A case whose outcome cleared the employee long enough ago, and its records that still
    hold personal data (ids only: a preview shows no personal data)."""

    case_id: uuid.UUID
    submission_id: uuid.UUID
    department: str
    outcome: ClearedOutcome
    outcome_on: date
    record_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class RetentionPreview:
    policy: RetentionPolicy
    today: date
    cases: list[DueCase]

    @property
    def cutoff(self) -> date:
        """Outcomes that took effect on or before this date are due."""
        return self.today - timedelta(days=self.policy.cleared_days)

    @property
    def record_count(self) -> int:
        return sum(len(case.record_ids) for case in self.cases)

    @property
    def digest(self) -> str:
        """SHA-256 of what the preview lists: the policy, its cutoff, each case and its
        records. A run given it purges exactly these or nothing."""
        listed = {
            **self.policy.describe(),
            "cutoff": self.cutoff.isoformat(),
            "cases": [
                [str(case.case_id), sorted(str(record_id) for record_id in case.record_ids)]
                for case in self.cases
            ],
        }
        return hashlib.sha256(json.dumps(listed, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RetentionRun:
    run_id: uuid.UUID
    preview: RetentionPreview
    purge_record_ids: list[uuid.UUID]


async def preview_retention(
    session: AsyncSession,
    *,
    policy: RetentionPolicy,
    today: date,
    department_scope: str | None,
) -> RetentionPreview:
    """What the policy would purge today in the department (None: every department): due
    cases in ledger order, with the ids of their records that still hold personal data.
    Changes nothing."""
    cutoff = today - timedelta(days=policy.cleared_days)
    outcomes = select(
        LedgerRecord.case_id,
        LedgerRecord.submission_id,
        LedgerRecord.department,
        LedgerRecord.record_kind,
        LedgerRecord.effective_on,
        LedgerRecord.sequence,
    ).where(
        or_(
            and_(
                LedgerRecord.record_kind == "cleared_finding",
                LedgerRecord.supersedes_id.is_(None),
            ),
            and_(
                LedgerRecord.record_kind == "appeal_outcome",
                LedgerRecord.appeal_outcome == "set_aside",
            ),
        ),
        LedgerRecord.effective_on <= cutoff,
    )
    if department_scope is not None:
        outcomes = outcomes.where(LedgerRecord.department == department_scope)
    outcome = outcomes.subquery()
    rows = (
        await session.execute(
            select(
                outcome.c.case_id,
                outcome.c.submission_id,
                outcome.c.department,
                outcome.c.record_kind,
                outcome.c.effective_on,
                func.array_agg(LedgerRecord.id).label("record_ids"),
            )
            .join(LedgerRecord, LedgerRecord.case_id == outcome.c.case_id)
            .where(
                LedgerRecord.personal_salt.is_not(None),
                LedgerRecord.record_kind.in_(PURGEABLE_KINDS),
            )
            .group_by(
                outcome.c.case_id,
                outcome.c.submission_id,
                outcome.c.department,
                outcome.c.record_kind,
                outcome.c.effective_on,
                outcome.c.sequence,
            )
            .order_by(outcome.c.sequence)
        )
    ).all()
    cases = [
        DueCase(
            case_id=row.case_id,
            submission_id=row.submission_id,
            department=row.department,
            outcome="cleared_finding" if row.record_kind == "cleared_finding" else "set_aside",
            outcome_on=row.effective_on,
            record_ids=tuple(sorted(row.record_ids, key=str)),
        )
        for row in rows
    ]
    return RetentionPreview(policy=policy, today=today, cases=cases)


async def apply_retention(
    session: AsyncSession,
    *,
    policy: RetentionPolicy,
    today: date,
    department_scope: str | None,
    expected_digest: str | None,
    recorded_by_id: uuid.UUID | None,
    recorded_by_label: str,
) -> RetentionRun:
    """Purge what the policy makes due today, in the caller's transaction, and record one
    retention purge per case. With expected_digest, refuse (PreviewOutdated) unless what is
    due is exactly what that preview listed. Under the ledger's lock, so two runs at once
    cannot purge the same record twice: the second finds nothing left."""
    await lock_ledger(session)
    preview = await preview_retention(
        session, policy=policy, today=today, department_scope=department_scope
    )
    if expected_digest is not None and expected_digest != preview.digest:
        raise PreviewOutdated(
            f"The policy would now purge {preview.record_count} records of "
            f"{len(preview.cases)} cases, not what the preview showed: preview again."
        )
    run_id = uuid.uuid4()
    if not preview.cases:
        return RetentionRun(run_id=run_id, preview=preview, purge_record_ids=[])
    record_ids = [record_id for case in preview.cases for record_id in case.record_ids]
    # The trigger lets this one UPDATE through while the setting is on, and only for it.
    await session.execute(select(func.set_config("registry.retention_purge", "on", True)))
    # In chunks: a first run may purge more records than one statement may bind parameters.
    for start in range(0, len(record_ids), PURGE_CHUNK):
        await session.execute(
            update(LedgerRecord)
            .where(
                LedgerRecord.id.in_(record_ids[start : start + PURGE_CHUNK]),
                LedgerRecord.personal_salt.is_not(None),
            )
            .values({name: null() for name in (*PERSONAL_FIELDS, "personal_salt")})
            .execution_options(synchronize_session=False)
        )
    await session.execute(select(func.set_config("registry.retention_purge", "off", True)))
    purges = await append_records(
        session,
        entries=[
            RetentionPurgeEntry(
                case_id=case.case_id,
                submission_id=case.submission_id,
                department=case.department,
                purged_record_ids=list(case.record_ids),
                retention_policy={
                    **policy.describe(),
                    "run_id": str(run_id),
                    "outcome": case.outcome,
                    "outcome_on": case.outcome_on.isoformat(),
                    "cutoff": preview.cutoff.isoformat(),
                },
                reasons=(
                    f"Personal data removed under the retention policy: the case's outcome "
                    f"({case.outcome.replace('_', ' ')}, {case.outcome_on.isoformat()}) is more "
                    f"than {policy.cleared_days} days old."
                ),
                effective_on=today,
                recorded_by_id=recorded_by_id,
                recorded_by_label=recorded_by_label,
            )
            for case in preview.cases
        ],
    )
    return RetentionRun(
        run_id=run_id, preview=preview, purge_record_ids=[purge.id for purge in purges]
    )
