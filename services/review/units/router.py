"""The chair's endpoints over the unit's members: who is in the unit and how many open cases
each holds, deactivating a member, and leave. Only the unit's own chair: another unit (or a
member of another unit) is a 404, a non-chair of the unit a 403."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from services.review.cases.assignment_service import Handover
from services.review.settings import ReviewSettings, current_settings
from services.review.units import service
from services.review.units.auth import CurrentMember
from services.review.units.errors import (
    MemberNotFound,
    MemberStandingConflict,
    NotUnitChair,
    UnitNotFound,
)
from services.review.units.models import Member
from services.review.units.schemas import (
    DeactivationCreate,
    HandoverRead,
    LeaveCreate,
    MemberList,
    MemberRead,
    MemberStandingRead,
)
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession

router = APIRouter(prefix="/v1/units", tags=["units"])
Settings = Annotated[ReviewSettings, Depends(current_settings)]


async def unit_of_chair(unit_id: uuid.UUID, caller: CurrentMember) -> uuid.UUID:
    if caller.unit_id != unit_id:
        raise UnitNotFound(f"No unit {unit_id} for this member.")
    if caller.role != "chair":
        raise NotUnitChair("Only the unit's chair may see or change its members.")
    return unit_id


ChairsUnit = Annotated[uuid.UUID, Depends(unit_of_chair)]


async def member_of_chairs_unit(
    member_id: uuid.UUID, unit_id: ChairsUnit, session: DbSession
) -> Member:
    return await service.unit_member(session, unit_id=unit_id, member_id=member_id)


UnitMember = Annotated[Member, Depends(member_of_chairs_unit)]
CHANGE_ERRORS = responses_for(
    Unauthenticated,
    NotUnitChair,
    UnitNotFound,
    MemberNotFound,
    MemberStandingConflict,
    InvalidInput,
)


def member_read(member: Member, *, open_cases: int) -> MemberRead:
    return MemberRead(
        id=member.id,
        name=member.name,
        employee_ref=member.employee_ref,
        office=member.office,
        role=member.role,
        active=member.active,
        on_leave=member.on_leave,
        open_cases=open_cases,
    )


async def standing_read(
    session: DbSession, *, member: Member, handovers: list[Handover]
) -> MemberStandingRead:
    return MemberStandingRead(
        member=member_read(
            member, open_cases=await service.open_case_count(session, member=member)
        ),
        handovers=[HandoverRead.model_validate(handover) for handover in handovers],
    )


@router.get(
    "/{unit_id}/members",
    response_model=MemberList,
    responses=responses_for(Unauthenticated, NotUnitChair, UnitNotFound),
)
async def list_members(unit_id: ChairsUnit, session: DbSession) -> MemberList:
    """The unit's members, active or not, each with the number of open cases they hold."""
    members = await service.unit_members(session, unit_id=unit_id)
    return MemberList(items=[member_read(member, open_cases=count) for member, count in members])


@router.post(
    "/{unit_id}/members/{member_id}/deactivation",
    response_model=MemberStandingRead,
    responses=CHANGE_ERRORS,
)
async def deactivate_member(
    deactivation_in: DeactivationCreate,
    member: UnitMember,
    chair: CurrentMember,
    session: DbSession,
    settings: Settings,
) -> MemberStandingRead:
    """Deactivate a member, with the reason. Their credential stops working, and each of their
    open cases goes to a colleague by the load rule, or back to the unit's queue if nobody is
    eligible; each change of hands is on the case's history."""
    handovers = await service.deactivate_member(
        session, member=member, actor=chair, reason=deactivation_in.reason, settings=settings
    )
    return await standing_read(session, member=member, handovers=handovers)


@router.post(
    "/{unit_id}/members/{member_id}/leave",
    response_model=MemberStandingRead,
    responses=CHANGE_ERRORS,
)
async def start_leave(
    member: UnitMember,
    chair: CurrentMember,
    session: DbSession,
    settings: Settings,
    leave_in: LeaveCreate | None = None,
) -> MemberStandingRead:
    """Put a member on leave (optionally with a reason). Nothing new is assigned to them, and
    their open cases are reassigned as on deactivation."""
    handovers = await service.start_leave(
        session,
        member=member,
        actor=chair,
        reason=leave_in.reason if leave_in else None,
        settings=settings,
    )
    return await standing_read(session, member=member, handovers=handovers)


@router.delete(
    "/{unit_id}/members/{member_id}/leave",
    response_model=MemberStandingRead,
    responses=CHANGE_ERRORS,
)
async def end_leave(
    member: UnitMember,
    chair: CurrentMember,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
) -> MemberStandingRead:
    """Bring a member back from leave. The unit's waiting cases are assigned at once, oldest
    first."""
    handovers = await service.end_leave(
        session, member=member, actor=chair, settings=settings, correlation_id=correlation_id
    )
    return await standing_read(session, member=member, handovers=handovers)
