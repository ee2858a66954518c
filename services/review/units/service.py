"""Creating units and members; members joining, leaving and returning, with their open cases
following them to a colleague or the unit's queue; issuing and checking members' personal
credentials.

Plain service functions: the chair's endpoints call them, and so will the admin command line.
Each change in standing is recorded with who made it and why (`MemberEvent`), and moves the
cases it affects in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.assignment import INVESTIGATING_ROLES
from services.review.cases.assignment_service import (
    OPEN,
    Handover,
    assign_waiting_cases,
    hand_over_open_cases,
    lock_roster,
)
from services.review.cases.models import Case
from services.review.settings import ReviewSettings, get_settings
from services.review.units.errors import MemberNotFound, MemberStandingConflict
from services.review.units.models import (
    Member,
    MemberCredential,
    MemberEvent,
    MemberRole,
    MembershipChange,
    MonitoringUnit,
    UnitJurisdiction,
)
from shared.credentials import (
    IssuedCredential,
    credential_accepts,
    invalid_credential,
    issue_credential,
)


async def create_unit(
    session: AsyncSession, *, code: str, name: str, jurisdiction: Iterable[str]
) -> MonitoringUnit:
    unit = MonitoringUnit(code=code, name=name)
    session.add(unit)
    await session.flush()
    session.add_all(
        [UnitJurisdiction(unit_id=unit.id, organisation_code=code) for code in set(jurisdiction)]
    )
    await session.flush()
    return unit


async def add_member(
    session: AsyncSession,
    *,
    unit: MonitoringUnit,
    name: str,
    employee_ref: str,
    office: str,
    role: MemberRole,
    actor: Member | None = None,
    settings: ReviewSettings | None = None,
    correlation_id: str | None = None,
) -> Member:
    """Add a member to the unit. An investigating member takes the unit's waiting cases at
    once, oldest first, as far as the load rule and conflicts allow."""
    member = Member(
        unit_id=unit.id, name=name, employee_ref=employee_ref, office=office, role=role, active=True
    )
    session.add(member)
    await session.flush()
    record_change(session, member=member, change="joined", actor=actor, reason=f"joined as {role}")
    if role in INVESTIGATING_ROLES:
        await assign_waiting_cases(
            session,
            unit_id=unit.id,
            settings=settings or get_settings(),
            actor=actor,
            correlation_id=correlation_id or f"member-joined-{member.id.hex}",
        )
    await session.flush()
    return member


def record_change(
    session: AsyncSession,
    *,
    member: Member,
    change: MembershipChange,
    actor: Member | None,
    reason: str,
) -> None:
    session.add(
        MemberEvent(
            member_id=member.id,
            change=change,
            actor_member_id=actor.id if actor else None,
            reason=reason,
        )
    )


async def unit_members(session: AsyncSession, *, unit_id: uuid.UUID) -> list[tuple[Member, int]]:
    """The unit's members, each with the number of open cases they hold."""
    rows = await session.execute(
        select(Member, func.count(Case.id))
        .outerjoin(Case, and_(Case.assignee_id == Member.id, OPEN))
        .where(Member.unit_id == unit_id)
        .group_by(Member.id)
        .order_by(Member.role, Member.name, Member.id)
    )
    return [(member, count) for member, count in rows]


async def unit_member(session: AsyncSession, *, unit_id: uuid.UUID, member_id: uuid.UUID) -> Member:
    """The member if they belong to the unit; 404 otherwise, whether or not they exist."""
    member = await session.scalar(
        select(Member).where(Member.id == member_id, Member.unit_id == unit_id)
    )
    if member is None:
        raise MemberNotFound(f"No member {member_id} in this unit.")
    return member


async def open_case_count(session: AsyncSession, *, member: Member) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Case).where(Case.assignee_id == member.id, OPEN)
    )
    return int(count or 0)


async def deactivate_member(
    session: AsyncSession,
    *,
    member: Member,
    actor: Member | None,
    reason: str,
    settings: ReviewSettings,
) -> list[Handover]:
    """Deactivate a member: their credentials stop working and their open cases go to
    colleagues by the load rule, or back to the unit's queue if nobody is eligible."""
    if actor is not None and actor.id == member.id:
        raise MemberStandingConflict("A member may not deactivate themself.")
    # The roster lock comes first, as on every path that moves cases between members.
    roster = await lock_roster(session, unit_id=member.unit_id)
    if not member.active:
        raise MemberStandingConflict(f"Member {member.id} is already deactivated.")
    member.active = False
    record_change(session, member=member, change="deactivated", actor=actor, reason=reason)
    # The chair's reason stays on the member's record; a case's history says only what
    # happened, since everyone working the case reads it.
    return await hand_over_open_cases(
        session,
        roster=roster,
        member=member,
        why="the member was deactivated",
        actor=actor,
        settings=settings,
    )


async def start_leave(
    session: AsyncSession,
    *,
    member: Member,
    actor: Member | None,
    reason: str | None,
    settings: ReviewSettings,
) -> list[Handover]:
    """Put a member on leave: nothing new is assigned to them and their open cases go to
    colleagues by the load rule, or back to the unit's queue if nobody is eligible."""
    roster = await lock_roster(session, unit_id=member.unit_id)
    if not member.active:
        raise MemberStandingConflict(f"Member {member.id} is deactivated.")
    if member.on_leave:
        raise MemberStandingConflict(f"Member {member.id} is already on leave.")
    member.on_leave = True
    record_change(
        session, member=member, change="leave_started", actor=actor, reason=reason or "on leave"
    )
    return await hand_over_open_cases(
        session,
        roster=roster,
        member=member,
        why="the member went on leave",
        actor=actor,
        settings=settings,
    )


async def end_leave(
    session: AsyncSession,
    *,
    member: Member,
    actor: Member | None,
    settings: ReviewSettings,
    correlation_id: str,
) -> list[Handover]:
    """Bring a member back from leave. The unit's waiting cases are assigned at once, oldest
    first, to whoever the load rule picks (most likely the returning member, who holds none).
    Cases reassigned while they were away stay with their new holders."""
    await lock_roster(session, unit_id=member.unit_id)
    if not member.active:
        raise MemberStandingConflict(f"Member {member.id} is deactivated.")
    if not member.on_leave:
        raise MemberStandingConflict(f"Member {member.id} is not on leave.")
    member.on_leave = False
    record_change(session, member=member, change="leave_ended", actor=actor, reason="back")
    return await assign_waiting_cases(
        session,
        unit_id=member.unit_id,
        settings=settings,
        actor=actor,
        correlation_id=correlation_id,
    )


async def issue_member_credential(session: AsyncSession, *, member: Member) -> IssuedCredential:
    issued = issue_credential("mk")
    session.add(
        MemberCredential(key_id=issued.key_id, secret_hash=issued.secret_hash, member_id=member.id)
    )
    await session.flush()
    return issued


async def authenticate_member(session: AsyncSession, *, key_id: str, secret: str) -> Member:
    found = (
        await session.execute(
            select(MemberCredential, Member)
            .join(Member, Member.id == MemberCredential.member_id)
            .where(MemberCredential.key_id == key_id)
        )
    ).first()
    if found is None:
        raise invalid_credential()
    credential, member = found
    if not member.active or not credential_accepts(
        secret, secret_hash=credential.secret_hash, revoked_at=credential.revoked_at
    ):
        raise invalid_credential()
    return member
