"""Putting cases in members' hands and taking them back: the load rule of `assignment`, applied
to a unit's roster under lock.

Every path locks the unit's members (in id order) before any case row, so assignments in
several workers, a member leaving, and the waiting-case sweep serialise per unit without
deadlocking, and each sees the others' effect on the load. A change of hands that does not
move the case is written on its history naming both members, and is not announced: the
submitter's status never goes backwards because the case changed hands.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.base import SCHEMA
from services.review.cases.assignment import (
    INVESTIGATING_ROLES,
    Candidate,
    CaseParties,
    choose_assignee,
)
from services.review.cases.history import announce_statuses, move_case, note_on_case
from services.review.cases.lifecycle import FINISHED_STATES, CaseState
from services.review.cases.models import Case, Determination
from services.review.roster.service import supervisors_of
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.db import utcnow

# A case not yet finished: it counts towards its holder's load and may change hands.
OPEN = Case.state.not_in([state.value for state in FINISHED_STATES])


@dataclass(frozen=True)
class Handover:
    """A case changing hands; `None` on either side is the unit's queue."""

    case_id: uuid.UUID
    from_member_id: uuid.UUID | None
    to_member_id: uuid.UUID | None


class UnitRoster:
    """A unit's members, locked for the transaction, with their open-case counts kept up to
    date as cases are handed out."""

    def __init__(self, *, members: list[Member], load: dict[uuid.UUID, int]) -> None:
        self.members = members
        self.load = load

    def anyone_can_investigate(self) -> bool:
        return any(
            m.active and not m.on_leave and m.role in INVESTIGATING_ROLES for m in self.members
        )

    async def chains_of_command(
        self, session: AsyncSession, *, cases: Collection[Case]
    ) -> dict[str, dict[str, frozenset[str]]]:
        """Per organisation of these cases: everyone above each subject and each member."""
        subjects: dict[str, set[str]] = {}
        for case in cases:
            subjects.setdefault(case.department, set()).add(case.subject_employee_ref)
        members = {member.employee_ref for member in self.members}
        return {
            department: await supervisors_of(
                session, organisation_code=department, employee_refs=refs | members
            )
            for department, refs in subjects.items()
        }

    def choose(
        self,
        case: Case,
        *,
        settings: ReviewSettings,
        earlier_deciders: Collection[uuid.UUID],
        chains: Mapping[str, Mapping[str, frozenset[str]]],
    ) -> Member | None:
        chain = chains.get(case.department, {})
        chosen = choose_assignee(
            [
                Candidate(
                    member_id=m.id,
                    employee_ref=m.employee_ref,
                    office=m.office,
                    role=m.role,
                    active=m.active,
                    on_leave=m.on_leave,
                    open_cases=self.load.get(m.id, 0),
                    last_assigned_at=m.last_assigned_at,
                    supervisors=chain.get(m.employee_ref, frozenset()),
                )
                for m in self.members
            ],
            CaseParties(
                subject_employee_ref=case.subject_employee_ref,
                subject_office=case.subject_office,
                reporter_ref=case.reporter_ref,
                reporter_office_ref=case.reporter_office_ref,
                earlier_deciders=frozenset(earlier_deciders),
                subject_supervisors=chain.get(case.subject_employee_ref, frozenset()),
            ),
            pseudonym_key=settings.pseudonym_key.get_secret_value(),
        )
        if chosen is None:
            return None
        return next(m for m in self.members if m.id == chosen.member_id)

    def hand(self, *, case: Case, member: Member | None, at: datetime) -> Handover:
        previous = case.assignee_id
        if previous is not None:
            self.load[previous] = max(self.load.get(previous, 0) - 1, 0)
        if member is not None:
            self.load[member.id] = self.load.get(member.id, 0) + 1
            member.last_assigned_at = at
        case.assignee_id = member.id if member else None
        case.updated_at = at
        case.awaiting_assignment_for = None
        return Handover(
            case_id=case.id, from_member_id=previous, to_member_id=member.id if member else None
        )


async def lock_roster(session: AsyncSession, *, unit_id: uuid.UUID) -> UnitRoster:
    # Reloading the members below would discard changes not yet written: write them first.
    await session.flush()
    members = list(
        (
            await session.scalars(
                select(Member)
                .where(Member.unit_id == unit_id)
                .order_by(Member.id)
                .with_for_update()
                # Another transaction may have changed a member while we waited for the lock.
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    load = dict(
        (
            await session.execute(
                select(Case.assignee_id, func.count())
                .where(Case.assignee_id.in_([m.id for m in members]), OPEN)
                .group_by(Case.assignee_id)
            )
        ).all()
    )
    return UnitRoster(members=members, load={k: v for k, v in load.items() if k is not None})


async def earlier_deciders(
    session: AsyncSession, *, case_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    """Who has already decided on each case: they may not take it over."""
    rows = await session.execute(
        select(Determination.case_id, Determination.recorded_by).where(
            Determination.case_id.in_(list(case_ids))
        )
    )
    return {case_id: frozenset({decider}) for case_id, decider in rows}


async def assign_case(session: AsyncSession, *, case: Case, settings: ReviewSettings) -> bool:
    """Assign a newly received case to the eligible member with the fewest open cases. False if
    nobody is eligible: the case then waits in its unit's queue."""
    if case.unit_id is None:
        return False
    roster = await lock_roster(session, unit_id=case.unit_id)
    chains = await roster.chains_of_command(session, cases=[case])
    member = roster.choose(case, settings=settings, earlier_deciders=(), chains=chains)
    if member is None:
        return False
    await move_case(
        session,
        case=case,
        target=CaseState.ASSIGNED,
        actor=None,
        reason=f"assigned to member {member.id} by the load rule",
    )
    roster.hand(case=case, member=member, at=case.updated_at)
    await session.flush()
    return True


async def assign_waiting_cases(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    settings: ReviewSettings,
    actor: Member | None,
    correlation_id: str,
    limit: int = 1000,
) -> list[Handover]:
    """Hand the unit's waiting cases (open, nobody holding them), oldest first, to eligible
    members. A case nobody may take (every member conflicted) keeps waiting; the rest go on
    (see `hand_out`).
    """
    roster = await lock_roster(session, unit_id=unit_id)
    if not roster.anyone_can_investigate():
        return []
    waiting = list(
        (
            await session.scalars(
                select(Case)
                .where(Case.unit_id == unit_id, Case.assignee_id.is_(None), OPEN)
                .order_by(Case.opened_at, Case.id)
                .limit(limit)
                # Another sweep holding some of them takes those; we take the rest.
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    return await hand_out(
        session,
        roster=roster,
        cases=[(case, correlation_id) for case in waiting],
        settings=settings,
        actor=actor,
        why="from the unit's queue by the load rule",
    )


async def hand_out(
    session: AsyncSession,
    *,
    roster: UnitRoster,
    cases: Sequence[tuple[Case, str]],
    settings: ReviewSettings,
    actor: Member | None,
    why: str,
) -> list[Handover]:
    """Hand each of these waiting cases (each with the correlation id its announcement
    carries), in order, to the member the load rule picks, the load counted afresh after each.
    A case still in 'received' moves to 'assigned' and the portal hears of it (all in one
    statement); a case that went back to the queue mid-procedure keeps its state and only
    changes hands. A case nobody may take keeps waiting."""
    deciders = await earlier_deciders(session, case_ids=[case.id for case, _ in cases])
    chains = await roster.chains_of_command(session, cases=[case for case, _ in cases])
    handovers: list[Handover] = []
    announced: list[tuple[Case, str]] = []
    for case, correlation_id in cases:
        member = roster.choose(
            case,
            settings=settings,
            earlier_deciders=deciders.get(case.id, frozenset()),
            chains=chains,
        )
        if member is None:
            continue
        reason = f"assigned to member {member.id} {why}"
        if case.state == CaseState.RECEIVED:
            await move_case(
                session, case=case, target=CaseState.ASSIGNED, actor=actor, reason=reason
            )
            handovers.append(roster.hand(case=case, member=member, at=case.updated_at))
            announced.append((case, correlation_id))
        else:
            now = utcnow()
            note_on_case(session, case=case, actor=actor, reason=reason, at=now)
            handovers.append(roster.hand(case=case, member=member, at=now))
    await announce_statuses(session, cases=announced, status="assigned")
    await session.flush()
    return handovers


# The advisory-lock class of the per-unit assigner; the second key is a hash of the unit's id.
# Two units sharing a hash only take turns.
ASSIGNER_LOCK_CLASS = 0x5241

CLAIM_UNIT_AWAITING_ASSIGNMENT = text(
    f"""
    WITH awaiting AS MATERIALIZED (
        SELECT DISTINCT unit_id FROM {SCHEMA}."case"
        WHERE awaiting_assignment_for IS NOT NULL AND unit_id IS NOT NULL
    )
    SELECT unit_id FROM awaiting
    WHERE pg_try_advisory_xact_lock(:lock_class, hashtext(CAST(unit_id AS text)))
    LIMIT 1
    """
)


async def claim_unit_awaiting_assignment(session: AsyncSession) -> uuid.UUID | None:
    """A unit holding cases that await assignment and that no other assigner is working,
    claimed until this transaction ends; None when there is none to claim.

    Never waits: a unit being worked is skipped, because its assigner looks again after it
    lets go and so finds every case committed before then. That is what lets many workers
    open cases at once while one of them assigns a whole batch under one roster lock.
    """
    unit_id: uuid.UUID | None = await session.scalar(
        CLAIM_UNIT_AWAITING_ASSIGNMENT, {"lock_class": ASSIGNER_LOCK_CLASS}
    )
    return unit_id


async def assign_awaiting_cases(
    session: AsyncSession, *, unit_id: uuid.UUID, settings: ReviewSettings, limit: int = 500
) -> int:
    """Apply the load rule to up to `limit` of the unit's cases awaiting assignment (oldest
    first) under one roster lock, each announced with its own message's correlation id.
    Returns how many cases were taken: assigned, or left waiting in the unit's queue when
    nobody may take them (the waiting-case sweep tries those again later)."""
    roster = await lock_roster(session, unit_id=unit_id)
    awaiting = list(
        (
            await session.scalars(
                select(Case)
                .where(Case.unit_id == unit_id, Case.awaiting_assignment_for.is_not(None))
                .order_by(Case.opened_at, Case.id)
                .limit(limit)
                # A case another transaction holds (a chair reading it) is taken next time.
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    batch = [(case, case.awaiting_assignment_for or "") for case in awaiting]
    for case in awaiting:
        case.awaiting_assignment_for = None
    if batch and roster.anyone_can_investigate():
        await hand_out(
            session,
            roster=roster,
            cases=batch,
            settings=settings,
            actor=None,
            why="by the load rule",
        )
    await session.flush()
    return len(awaiting)


async def hand_over_open_cases(
    session: AsyncSession,
    *,
    roster: UnitRoster,
    member: Member,
    why: str,
    actor: Member | None,
    settings: ReviewSettings,
) -> list[Handover]:
    """Move every open case of a member who may no longer hold it (deactivated, on leave) to
    an eligible colleague by the load rule, or back to the unit's queue if there is none.

    The caller has locked the roster and changed the member's standing in it, so the member is
    no longer a candidate.
    """
    await session.flush()
    held = list(
        (
            await session.scalars(
                select(Case)
                .where(Case.assignee_id == member.id, OPEN)
                .order_by(Case.opened_at, Case.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    deciders = await earlier_deciders(session, case_ids=[case.id for case in held])
    chains = await roster.chains_of_command(session, cases=held)
    handovers: list[Handover] = []
    now = utcnow()
    for case in held:
        successor = roster.choose(
            case,
            settings=settings,
            earlier_deciders=deciders.get(case.id, frozenset()),
            chains=chains,
        )
        if successor is not None:
            reason = f"reassigned from member {member.id} to member {successor.id}: {why}"
        else:
            reason = (
                f"unassigned from member {member.id}: {why}; no eligible member, back in the "
                "unit's queue"
            )
        note_on_case(session, case=case, actor=actor, reason=reason, at=now)
        handovers.append(roster.hand(case=case, member=successor, at=now))
    await session.flush()
    return handovers
