"""Projecting a submission's status from review's and registry's events, for every kind.

A status event names a submission by id only. `STATUS_HOLDERS` lists the tables that hold
submissions; the event moves whichever of them has that id. An id none of them has is not ours
(or not yet ours) and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.permissions.models import PermissionRequest
from services.intake.reports.models import Report
from services.intake.submissions.models import SubmissionStatusColumns, SubmissionStatusEvent
from services.intake.violator_lists.models import ViolatorListEntry
from services.intake.webhooks.service import stage_status_deliveries

# Every model carrying SubmissionStatusColumns, so one event finds its submission.
STATUS_HOLDERS: tuple[type[SubmissionStatusColumns], ...] = (
    Report,
    PermissionRequest,
    ViolatorListEntry,
)


def start_status(
    session: AsyncSession, *, submission_id: uuid.UUID, status: str, occurred_at: datetime
) -> None:
    """The first line of a new submission's history (its row carries the same status)."""
    session.add(
        SubmissionStatusEvent(submission_id=submission_id, status=status, occurred_at=occurred_at)
    )


async def status_history(
    session: AsyncSession, *, submission_id: uuid.UUID
) -> list[SubmissionStatusEvent]:
    return list(
        (
            await session.scalars(
                select(SubmissionStatusEvent)
                .where(SubmissionStatusEvent.submission_id == submission_id)
                .order_by(SubmissionStatusEvent.occurred_at, SubmissionStatusEvent.id)
            )
        ).all()
    )


async def record_status(
    session: AsyncSession, *, submission_id: uuid.UUID, status: str, occurred_at: datetime
) -> SubmissionStatusColumns | None:
    """Append to the status history; the current status follows the latest event in time,
    whatever order the events arrive in. Returns the submission, or None if it is not ours.

    Each line is also announced to the department's webhooks, in this same transaction."""
    for holder in STATUS_HOLDERS:
        submission = await session.scalar(
            select(holder).where(inspect(holder).primary_key[0] == submission_id).with_for_update()
        )
        if submission is not None:
            break
    else:
        return None
    start_status(session, submission_id=submission_id, status=status, occurred_at=occurred_at)
    await stage_status_deliveries(
        session, submission=submission, status=status, occurred_at=occurred_at
    )
    if occurred_at >= submission.status_changed_at:
        submission.status = status
        submission.status_changed_at = occurred_at
    await session.flush()
    return submission
