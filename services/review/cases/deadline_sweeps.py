"""The scheduled sweeps over open cases: reply windows that lapsed, cases untouched past their
stage's deadline (escalated to the chair), and units whose waiting cases someone could now take.

Each sweep is one set-based statement over the (state, updated_at) index, never a loop over
cases, and claims its rows with FOR UPDATE SKIP LOCKED, so several workers may sweep at once
and none waits on a case a member is working. A lapse rewrites the case, so a row another
sweep has just moved no longer qualifies; an escalation writes only its record, whose key
(case, state) makes a second one a no-op, and the history's event is written only for a record
actually inserted. Either way each case is moved, or escalated, exactly once. Work is taken in
batches so a backlog never holds locks for long; the caller commits each batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.base import SCHEMA
from services.review.cases.assignment import INVESTIGATING_ROLES
from services.review.cases.assignment_service import OPEN
from services.review.cases.deadlines import overdue_before
from services.review.cases.history import portal_status
from services.review.cases.lifecycle import CaseState, states_leading_to
from services.review.cases.models import Case
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.messages import CaseStatusChanged
from shared.outbox import stage_messages


def stage_deadlines(settings: ReviewSettings) -> dict[CaseState, int]:
    """Working days a case may sit untouched in each state before it is escalated. States
    absent here are never escalated: the reply window lapses on its own, a determination
    awaits the chair, and finished cases wait for nobody."""
    return {
        CaseState.RECEIVED: settings.received_deadline_working_days,
        CaseState.ASSIGNED: settings.assigned_deadline_working_days,
        CaseState.IN_REVIEW: settings.in_review_deadline_working_days,
        CaseState.REPLY_RECEIVED: settings.hearing_deadline_working_days,
        CaseState.REPLY_WINDOW_LAPSED: settings.hearing_deadline_working_days,
        CaseState.HEARING_CONCLUDED: settings.determination_deadline_working_days,
    }


@dataclass(frozen=True)
class StageCutoff:
    state: CaseState
    deadline_working_days: int
    untouched_before: datetime


def stage_cutoffs(settings: ReviewSettings, *, today: date) -> list[StageCutoff]:
    """For each stage, the instant before which a last touch makes the case overdue today."""
    return [
        StageCutoff(
            state=state,
            deadline_working_days=days,
            untouched_before=datetime.combine(
                overdue_before(today, days, holidays=settings.public_holidays),
                time(),
                tzinfo=UTC,
            ),
        )
        for state, days in stage_deadlines(settings).items()
    ]


LAPSE_REPLY_WINDOWS = text(
    f"""
    WITH due AS (
        SELECT c.id, c.state, n.reply_due_on
        FROM {SCHEMA}."case" AS c JOIN {SCHEMA}.notice AS n ON n.case_id = c.id
        WHERE c.state = ANY(CAST(:from_states AS text[])) AND n.reply_due_on < :today
          -- A window stays open while an extension asked for in time awaits the chair.
          AND NOT EXISTS (
              SELECT 1 FROM {SCHEMA}.reply_extension AS x
              WHERE x.case_id = c.id AND x.status = 'requested'
          )
        ORDER BY n.reply_due_on, c.id
        LIMIT :limit
        FOR UPDATE OF c SKIP LOCKED
    ), moved AS (
        UPDATE {SCHEMA}."case" AS c
        SET state = CAST(:lapsed AS text), updated_at = CAST(:now AS timestamptz)
        FROM due WHERE c.id = due.id
        RETURNING c.id, c.submission_id, c.updated_at
    ), noted AS (
        INSERT INTO {SCHEMA}.case_event
            (case_id, from_state, to_state, actor_member_id, reason, occurred_at)
        SELECT due.id, due.state, CAST(:lapsed AS text), NULL,
               'reply window lapsed: no reply by ' || to_char(due.reply_due_on, 'YYYY-MM-DD'),
               CAST(:now AS timestamptz)
        FROM due
    )
    SELECT id, submission_id, updated_at FROM moved
    """
)


async def lapse_reply_windows(
    session: AsyncSession, *, today: date, now: datetime, correlation_id: str, limit: int = 500
) -> list[uuid.UUID]:
    """Move up to `limit` cases whose notice's reply date has passed with no reply to
    'reply_window_lapsed', each with a system event naming the date, and announce it.

    The states a lapse may start from come from the life cycle's table, so the sweep can
    never make a move the procedure does not allow. The announcements are staged by one
    statement, whatever the number of cases (a sweep after an outage may lapse thousands).
    """
    lapsed = CaseState.REPLY_WINDOW_LAPSED
    moved = (
        await session.execute(
            LAPSE_REPLY_WINDOWS,
            {
                "from_states": sorted(states_leading_to(lapsed)),
                "lapsed": lapsed.value,
                "today": today,
                "now": now,
                "limit": limit,
            },
        )
    ).all()
    status = portal_status(lapsed)
    if moved and status is not None:
        # From the rows the lapse returned: no case is loaded again.
        await stage_messages(
            session,
            [
                (
                    CaseStatusChanged(
                        submission_id=row.submission_id,
                        case_id=row.id,
                        status=status,
                        changed_at=row.updated_at,
                    ),
                    correlation_id,
                )
                for row in moved
            ],
            producer="review",
        )
    return [row.id for row in moved]


SWEEP_WORK_MEM = "64MB"

ESCALATE_OVERDUE_CASES = text(
    f"""
    WITH stage (state, untouched_before, deadline_working_days) AS (
        SELECT * FROM unnest(
            CAST(:states AS text[]), CAST(:cutoffs AS timestamptz[]), CAST(:days AS int[])
        )
    ), due AS (
        SELECT c.id, c.state, c.updated_at, stage.deadline_working_days
        FROM {SCHEMA}."case" AS c
        JOIN stage ON c.state = stage.state AND c.updated_at < stage.untouched_before
        WHERE NOT EXISTS (
            SELECT 1 FROM {SCHEMA}.case_escalation AS e
            WHERE e.case_id = c.id AND e.state = c.state
        )
        ORDER BY c.updated_at, c.id
        LIMIT :limit
        FOR UPDATE OF c SKIP LOCKED
    ), recorded AS (
        INSERT INTO {SCHEMA}.case_escalation
            (case_id, state, deadline_working_days, untouched_since, escalated_at)
        SELECT id, state, deadline_working_days, updated_at, CAST(:now AS timestamptz)
        FROM due
        ON CONFLICT DO NOTHING
        RETURNING case_id, state, deadline_working_days
    ), noted AS (
        INSERT INTO {SCHEMA}.case_event
            (case_id, from_state, to_state, actor_member_id, reason, occurred_at)
        SELECT case_id, state, state, NULL,
               'escalated to the chair: untouched in ' || state || ' past its deadline of '
               || deadline_working_days || ' working days',
               CAST(:now AS timestamptz)
        FROM recorded
    )
    SELECT case_id FROM recorded
    """
)


async def escalate_overdue_cases(
    session: AsyncSession,
    *,
    settings: ReviewSettings,
    today: date,
    now: datetime,
    limit: int = 1000,
) -> list[uuid.UUID]:
    """Escalate to the chair up to `limit` cases untouched past their stage's deadline: the
    escalation is recorded once per case and state (the chair's list filters on it) and the
    case's history says why. The case row itself is not written: the record is the flag."""
    cutoffs = stage_cutoffs(settings, today=today)
    # After an outage tens of thousands of cases may be due at once: sort them in memory
    # rather than in temporary files (for this transaction only).
    await session.execute(text(f"SET LOCAL work_mem = '{SWEEP_WORK_MEM}'"))
    return list(
        (
            await session.execute(
                ESCALATE_OVERDUE_CASES,
                {
                    "states": [cutoff.state.value for cutoff in cutoffs],
                    "cutoffs": [cutoff.untouched_before for cutoff in cutoffs],
                    "days": [cutoff.deadline_working_days for cutoff in cutoffs],
                    "now": now,
                    "limit": limit,
                },
            )
        ).scalars()
    )


async def units_with_waiting_cases(session: AsyncSession) -> list[uuid.UUID]:
    """Units holding open cases that nobody holds while some member could investigate: the
    candidates for `assign_waiting_cases`. Conflicts are checked there, case by case."""
    investigator_available = exists().where(
        Member.unit_id == Case.unit_id,
        Member.active.is_(True),
        Member.on_leave.is_(False),
        Member.role.in_(sorted(INVESTIGATING_ROLES)),
    )
    unit_ids = await session.scalars(
        select(Case.unit_id)
        .where(
            Case.unit_id.is_not(None),
            Case.assignee_id.is_(None),
            OPEN,
            investigator_available,
        )
        .distinct()
    )
    return [unit_id for unit_id in unit_ids if unit_id is not None]
