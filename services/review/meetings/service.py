"""Recording a unit's meetings and summarising its work over a period."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.assignment_service import OPEN
from services.review.cases.deadlines import working_days_between
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case, CaseEscalation, CaseEvent, Determination
from services.review.meetings.models import UnitMeeting
from services.review.meetings.schemas import (
    AttendeeRead,
    MeetingCreate,
    MeetingRead,
    RuleOutcomes,
    UnitSummary,
)
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.errors import FieldProblem, InvalidInput


async def unit_members_by_id(
    session: AsyncSession, *, unit_id: uuid.UUID
) -> dict[uuid.UUID, Member]:
    members = await session.scalars(select(Member).where(Member.unit_id == unit_id))
    return {member.id: member for member in members}


def meeting_read(meeting: UnitMeeting, *, members: dict[uuid.UUID, Member]) -> MeetingRead:
    return MeetingRead(
        id=meeting.id,
        unit_id=meeting.unit_id,
        held_on=meeting.held_on,
        attendees=[
            AttendeeRead(id=member.id, name=member.name, role=member.role)
            for member in (members[attendee] for attendee in meeting.attendee_ids)
        ],
        guests=meeting.guests,
        agenda=meeting.agenda,
        decisions=meeting.decisions,
        recorded_by=meeting.recorded_by,
        recorded_at=meeting.recorded_at,
    )


async def record_meeting(
    session: AsyncSession, *, unit_id: uuid.UUID, recorder: Member, meeting_in: MeetingCreate
) -> MeetingRead:
    """The minutes of a meeting held (not one to come), naming members of this unit only."""
    members = await unit_members_by_id(session, unit_id=unit_id)
    problems = [
        FieldProblem(field=f"attendee_ids.{index}", message="not a member of this unit")
        for index, attendee in enumerate(meeting_in.attendee_ids)
        if attendee not in members
    ]
    if len(set(meeting_in.attendee_ids)) != len(meeting_in.attendee_ids):
        problems.append(FieldProblem(field="attendee_ids", message="a member is named twice"))
    if meeting_in.held_on > datetime.now(UTC).date():
        problems.append(FieldProblem(field="held_on", message="minutes record a meeting held"))
    if problems:
        raise InvalidInput("The meeting's record does not hold.", errors=problems)
    meeting = UnitMeeting(
        id=uuid.uuid4(),
        unit_id=unit_id,
        held_on=meeting_in.held_on,
        attendee_ids=list(meeting_in.attendee_ids),
        guests=list(meeting_in.guests),
        agenda=meeting_in.agenda,
        decisions=list(meeting_in.decisions),
        recorded_by=recorder.id,
        recorded_at=datetime.now(UTC),
    )
    session.add(meeting)
    await session.flush()
    return meeting_read(meeting, members=members)


async def unit_meetings(session: AsyncSession, *, unit_id: uuid.UUID) -> list[MeetingRead]:
    members = await unit_members_by_id(session, unit_id=unit_id)
    meetings = await session.scalars(
        select(UnitMeeting)
        .where(UnitMeeting.unit_id == unit_id)
        .order_by(UnitMeeting.held_on.desc(), UnitMeeting.recorded_at.desc())
        .limit(500)
    )
    return [meeting_read(meeting, members=members) for meeting in meetings]


def day_bounds(from_date: date, to_date: date) -> tuple[datetime, datetime]:
    """The range as instants: from the start of `from_date` to the end of `to_date` (UTC)."""
    start = datetime.combine(from_date, time(), tzinfo=UTC)
    return start, datetime.combine(to_date + timedelta(days=1), time(), tzinfo=UTC)


async def unit_summary(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    from_date: date,
    to_date: date,
    settings: ReviewSettings,
) -> UnitSummary:
    """What the unit received, determined and dismissed in the range, what is pending and
    overdue now, the findings per rule, and how long determinations took."""
    if to_date < from_date:
        raise InvalidInput(
            "The range ends before it starts.",
            errors=[FieldProblem(field="to", message="must not be before 'from'")],
        )
    start, end = day_bounds(from_date, to_date)
    in_unit = Case.unit_id == unit_id
    received = await session.scalar(
        select(func.count()).where(in_unit, Case.opened_at >= start, Case.opened_at < end)
    )
    dismissed = await session.scalar(
        select(func.count())
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            in_unit,
            CaseEvent.to_state == CaseState.DISMISSED,
            CaseEvent.occurred_at >= start,
            CaseEvent.occurred_at < end,
        )
    )
    pending = dict(
        (
            await session.execute(
                select(Case.state, func.count()).where(in_unit, OPEN).group_by(Case.state)
            )
        ).all()
    )
    overdue = await session.scalar(
        select(func.count())
        .select_from(CaseEscalation)
        .join(Case, (Case.id == CaseEscalation.case_id) & (Case.state == CaseEscalation.state))
        .where(in_unit, OPEN)
    )
    determinations = (
        await session.execute(
            select(
                Determination.finding,
                Determination.rules_cited,
                Case.rules_alleged,
                Case.reported_at,
                Determination.recorded_at,
            )
            .join(Case, Case.id == Determination.case_id)
            .where(in_unit, Determination.recorded_at >= start, Determination.recorded_at < end)
        )
    ).all()
    outcomes: dict[str, Counter[str]] = {}
    durations: list[int] = []
    for finding, rules_cited, rules_alleged, reported_at, recorded_at in determinations:
        for rule in rules_cited or rules_alleged:
            outcomes.setdefault(rule, Counter())[finding] += 1
        durations.append(
            working_days_between(
                reported_at.date(), recorded_at.date(), holidays=settings.public_holidays
            )
        )
    meetings = await session.scalar(
        select(func.count()).where(
            UnitMeeting.unit_id == unit_id,
            UnitMeeting.held_on >= from_date,
            UnitMeeting.held_on <= to_date,
        )
    )
    return UnitSummary(
        unit_id=unit_id,
        from_date=from_date,
        to_date=to_date,
        received=received or 0,
        determined=len(determinations),
        dismissed=dismissed or 0,
        pending_by_stage={str(state): count for state, count in sorted(pending.items())},
        overdue=overdue or 0,
        outcomes_by_rule={
            rule: RuleOutcomes(
                violation=counts.get("violation", 0), cleared=counts.get("cleared", 0)
            )
            for rule, counts in sorted(outcomes.items())
        },
        median_working_days_to_determination=(
            float(statistics.median(durations)) if durations else None
        ),
        meetings=meetings or 0,
    )
