"""Closing cases: the last step of the life cycle, once nothing more can happen to a case.

- A permission decision, or a finding that cleared the employee, can follow no further step:
  the case closes as soon as registry has recorded it.
- A violation can be appealed within the appeal window (REVIEW_APPEAL_WINDOW_DAYS calendar
  days from the chair's countersignature). The case closes once that window and a grace period
  (REVIEW_CLOSE_GRACE_DAYS, for an appeal filed in time but entered late) have passed with no
  appeal: a daily sweep does it.
- An appealed case closes when registry has recorded the appeal's outcome.

Each close is an event on the case's history and is announced to the submitter's portal
("closed"), in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.history import announce_state, move_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case, Determination

# Registry's record kind for an appeal's outcome (RecordCreated.record_kind).
APPEAL_OUTCOME_RECORD = "appeal_outcome"


def closes_when_recorded(case: Case, determination: Determination | None) -> bool:
    """Whether nothing can follow the record: no appeal lies against a permission decision or
    a cleared finding."""
    if case.kind == "permission":
        return True
    return determination is not None and determination.finding != "violation"


async def close_case(
    session: AsyncSession, *, case: Case, reason: str, at: datetime, correlation_id: str
) -> None:
    await move_case(session, case=case, target=CaseState.CLOSED, actor=None, reason=reason, at=at)
    await announce_state(session, case=case, correlation_id=correlation_id)


def appeal_deadline_passed_before(*, today: date, appeal_window_days: int, grace_days: int) -> date:
    """Violations countersigned before this day can no longer be appealed (window + grace)."""
    return today - timedelta(days=appeal_window_days + grace_days)


async def close_unappealed_violations(
    session: AsyncSession,
    *,
    today: date,
    now: datetime,
    appeal_window_days: int,
    grace_days: int,
    correlation_id: str,
    limit: int,
) -> list[Case]:
    """Close recorded violations whose appeal window (and grace) has passed with no appeal.
    Set-based: one locked batch, skipping cases another worker holds."""
    countersigned_before = appeal_deadline_passed_before(
        today=today, appeal_window_days=appeal_window_days, grace_days=grace_days
    )
    cases = list(
        (
            await session.scalars(
                select(Case)
                .join(Determination, Determination.case_id == Case.id)
                .where(
                    Case.state == CaseState.RECORDED,
                    Determination.finding == "violation",
                    cast(Determination.countersigned_at, Date) < countersigned_before,
                )
                .order_by(Case.updated_at, Case.id)
                .limit(limit)
                .with_for_update(of=Case, skip_locked=True)
            )
        ).all()
    )
    for case in cases:
        await close_case(
            session,
            case=case,
            reason=(
                f"no appeal within the appeal window ({appeal_window_days} days) and "
                f"{grace_days} days' grace"
            ),
            at=now,
            correlation_id=correlation_id,
        )
    await session.flush()
    return cases
