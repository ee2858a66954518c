"""A unit's meetings and its periodic summary. The chair or the secretary records a meeting;
every member of the unit reads its meetings; the chair, the secretary and the unit's auditor
read the summary. Another unit is a 404."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.review.meetings import service
from services.review.meetings.errors import NotUnitOfficer
from services.review.meetings.schemas import MeetingCreate, MeetingList, MeetingRead, UnitSummary
from services.review.settings import ReviewSettings, current_settings
from services.review.units.auth import CurrentMember
from services.review.units.errors import UnitNotFound
from services.review.units.models import Member
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession

router = APIRouter(prefix="/v1/units/{unit_id}", tags=["meetings"])
Settings = Annotated[ReviewSettings, Depends(current_settings)]
RECORDERS = frozenset({"chair", "secretary"})
SUMMARY_READERS = frozenset({"chair", "secretary", "auditor"})


async def member_of_unit(unit_id: uuid.UUID, caller: CurrentMember) -> Member:
    if caller.unit_id != unit_id:
        raise UnitNotFound(f"No unit {unit_id} for this member.")
    return caller


UnitMemberCaller = Annotated[Member, Depends(member_of_unit)]


def officer(roles: frozenset[str]) -> object:
    async def check(caller: UnitMemberCaller) -> Member:
        if caller.role not in roles:
            raise NotUnitOfficer(f"Only the unit's {' or '.join(sorted(roles))} may do this.")
        return caller

    return Depends(check)


Recorder = Annotated[Member, officer(RECORDERS)]
SummaryReader = Annotated[Member, officer(SUMMARY_READERS)]


@router.post(
    "/meetings",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingRead,
    responses=responses_for(Unauthenticated, UnitNotFound, NotUnitOfficer, InvalidInput),
)
async def record_meeting(
    unit_id: uuid.UUID, meeting_in: MeetingCreate, recorder: Recorder, session: DbSession
) -> MeetingRead:
    """Record a meeting the unit held: its date, the members present (and guests), the agenda
    and the decisions. Minutes are never edited afterwards."""
    return await service.record_meeting(
        session, unit_id=unit_id, recorder=recorder, meeting_in=meeting_in
    )


@router.get(
    "/meetings",
    response_model=MeetingList,
    responses=responses_for(Unauthenticated, UnitNotFound),
)
async def list_meetings(
    unit_id: uuid.UUID, caller: UnitMemberCaller, session: DbSession
) -> MeetingList:
    """The unit's meetings, newest first."""
    return MeetingList(items=await service.unit_meetings(session, unit_id=unit_id))


@router.get(
    "/summary",
    response_model=UnitSummary,
    response_model_by_alias=True,
    responses=responses_for(Unauthenticated, UnitNotFound, NotUnitOfficer, InvalidInput),
)
async def read_summary(
    unit_id: uuid.UUID,
    caller: SummaryReader,
    session: DbSession,
    settings: Settings,
    from_date: Annotated[date, Query(alias="from")],
    to_date: Annotated[date, Query(alias="to")],
) -> UnitSummary:
    """The unit's work over a date range (both days included): cases received, determined and
    dismissed, what is pending by stage and overdue now, findings per rule, the median working
    days from a report's receipt to its determination, and meetings held."""
    return await service.unit_summary(
        session, unit_id=unit_id, from_date=from_date, to_date=to_date, settings=settings
    )
