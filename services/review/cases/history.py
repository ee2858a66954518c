"""A case's record: every move goes through `move_case`, which checks the life cycle and writes
the event row; every other change on a case (a change of hands, an escalation, the chair's
countersignature) is an event from a state to the same state. What the submitter's portal
should see is announced through the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.lifecycle import CaseState, check_transition
from services.review.cases.models import Case, CaseEvent
from services.review.units.models import Member
from shared.db import utcnow
from shared.messages import CaseStatusChanged, SubmissionStatus
from shared.outbox import stage_message, stage_messages

# The statuses the case.status_changed contract carries: a state outside it is not announced.
CONTRACT_STATUSES = frozenset(get_args(SubmissionStatus))


async def move_case(
    session: AsyncSession,
    *,
    case: Case,
    target: CaseState,
    actor: Member | None,
    reason: str,
    at: datetime | None = None,
    on_institutions_record: bool = False,
    leaving_confidential_channel: bool = False,
) -> None:
    """Move the case and write the event. `on_institutions_record` takes the confirmation
    track's move instead of the procedure's (lifecycle.ON_RECORD_TRANSITIONS), and
    `leaving_confidential_channel` the chair's way out of the channel
    (lifecycle.CONFIDENTIAL_EXITS)."""
    check_transition(
        CaseState(case.state),
        target,
        kind=case.kind,
        on_institutions_record=on_institutions_record,
        leaving_confidential_channel=leaving_confidential_channel,
    )
    now = at or utcnow()
    session.add(
        CaseEvent(
            case_id=case.id,
            from_state=case.state,
            to_state=target,
            actor_member_id=actor.id if actor else None,
            reason=reason,
            occurred_at=now,
        )
    )
    case.state = target
    case.updated_at = now


def note_on_case(
    session: AsyncSession,
    *,
    case: Case,
    actor: Member | None,
    reason: str,
    at: datetime | None = None,
) -> None:
    """Record something that happened to the case without moving it."""
    session.add(
        CaseEvent(
            case_id=case.id,
            from_state=case.state,
            to_state=case.state,
            actor_member_id=actor.id if actor else None,
            reason=reason,
            occurred_at=at or utcnow(),
        )
    )


def portal_status(state: CaseState) -> SubmissionStatus | None:
    """The status the submitter's portal sees for a case entering this state, if the message
    contract carries one."""
    return cast(SubmissionStatus, state.value) if state.value in CONTRACT_STATUSES else None


async def announce_status(
    session: AsyncSession,
    *,
    case: Case,
    status: SubmissionStatus,
    correlation_id: str,
    at: datetime | None = None,
) -> None:
    """Tell the submitter's portal; `at` defaults to the case's last move."""
    await stage_message(
        session,
        CaseStatusChanged(
            submission_id=case.submission_id,
            case_id=case.id,
            status=status,
            changed_at=at or case.updated_at,
        ),
        producer="review",
        correlation_id=correlation_id,
    )


async def announce_statuses(
    session: AsyncSession,
    *,
    cases: Sequence[tuple[Case, str]],
    status: SubmissionStatus,
) -> None:
    """`announce_status` for many cases (each with its correlation id) in one statement."""
    await stage_messages(
        session,
        [
            (
                CaseStatusChanged(
                    submission_id=case.submission_id,
                    case_id=case.id,
                    status=status,
                    changed_at=case.updated_at,
                ),
                correlation_id,
            )
            for case, correlation_id in cases
        ],
        producer="review",
    )


async def announce_state(session: AsyncSession, *, case: Case, correlation_id: str) -> None:
    """Announce the state the case just entered, when the contract has a status for it."""
    status = portal_status(CaseState(case.state))
    if status is not None:
        await announce_status(session, case=case, status=status, correlation_id=correlation_id)


async def case_history(session: AsyncSession, *, case: Case) -> list[CaseEvent]:
    """Every event of the case, oldest first: what its page shows, whatever its kind."""
    return list(
        (
            await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.occurred_at, CaseEvent.id)
            )
        ).all()
    )
