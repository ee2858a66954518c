"""Renewal reminders: a granted permission nearing its expiry is noted on its case's history
once, so the member and the chair see it is due for renewal (a renewal is a new request naming
the registry record it renews), and the requesting department's portal is told: the request's
status becomes "renewal_due" (and its webhooks fire).

The sweep claims its rows with FOR UPDATE SKIP LOCKED and stamps each decision as reminded in
the same transaction, so several workers may run it at once and each grant is reminded once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.history import announce_status, note_on_case
from services.review.cases.models import Case
from services.review.permissions.models import PermissionDecisionRecord


async def remind_renewals(
    session: AsyncSession,
    *,
    today: date,
    now: datetime,
    within_days: int,
    correlation_id: str,
    limit: int = 500,
) -> list[uuid.UUID]:
    """Note on up to `limit` cases that their grant expires within `within_days` (and has not
    yet expired), once per grant. Returns the cases reminded."""
    rows = (
        await session.execute(
            select(PermissionDecisionRecord, Case)
            .join(Case, Case.id == PermissionDecisionRecord.case_id)
            .where(
                PermissionDecisionRecord.decision != "refused",
                PermissionDecisionRecord.renewal_reminded_at.is_(None),
                PermissionDecisionRecord.expires_on >= today,
                PermissionDecisionRecord.expires_on <= today + timedelta(days=within_days),
            )
            .order_by(PermissionDecisionRecord.expires_on, PermissionDecisionRecord.case_id)
            .limit(limit)
            .with_for_update(of=PermissionDecisionRecord, skip_locked=True)
        )
    ).all()
    for decision, case in rows:
        decision.renewal_reminded_at = now
        note_on_case(
            session,
            case=case,
            actor=None,
            reason=(
                f"renewal reminder: the permission expires on {decision.expires_on}; the "
                "department may ask to renew it before then"
            ),
            at=now,
        )
        await announce_status(
            session, case=case, status="renewal_due", correlation_id=correlation_id, at=now
        )
    await session.flush()
    return [decision.case_id for decision, _ in rows]
