"""Extensions of a case's reply window: the assigned member asks (the employee asks through the
portal); only the unit's chair decides."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.review.cases.errors import CaseNotFound, NotAssignee, NotChair
from services.review.cases.procedure import require_assignee
from services.review.cases.router import MemberCase
from services.review.notices import service
from services.review.notices.errors import ExtensionNotFound, ExtensionNotOpen
from services.review.notices.schemas import (
    ExtensionCreate,
    ExtensionDecisionCreate,
    ExtensionRead,
)
from services.review.settings import ReviewSettings, current_settings
from services.review.units.auth import CurrentMember
from shared.db import utcnow
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Settings = Annotated[ReviewSettings, Depends(current_settings)]


@router.post(
    "/{case_id}/extensions",
    status_code=status.HTTP_201_CREATED,
    response_model=ExtensionRead,
    responses=responses_for(
        Unauthenticated, NotAssignee, CaseNotFound, ExtensionNotOpen, InvalidInput
    ),
)
async def request_extension(
    extension_in: ExtensionCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    settings: Settings,
) -> ExtensionRead:
    """Ask the chair to extend the reply window by some working days, with the reason. Only
    while the window is open and no other request awaits the chair; the window does not lapse
    while this one does."""
    require_assignee(case, member)
    extension = await service.request_extension(
        session,
        case=case,
        member=member,
        extension_in=extension_in,
        settings=settings,
        on=utcnow().date(),
    )
    return ExtensionRead.model_validate(extension)


@router.get(
    "/{case_id}/extensions",
    response_model=list[ExtensionRead],
    responses=responses_for(Unauthenticated, CaseNotFound),
)
async def list_extensions(case: MemberCase, session: DbSession) -> list[ExtensionRead]:
    """Every extension asked for on the case, by the member or the employee via portal."""
    return [
        ExtensionRead.model_validate(extension)
        for extension in await service.extensions_of(session, case=case)
    ]


@router.post(
    "/{case_id}/extensions/{extension_id}/decision",
    response_model=ExtensionRead,
    responses=responses_for(
        Unauthenticated, NotChair, CaseNotFound, ExtensionNotFound, ExtensionNotOpen, InvalidInput
    ),
)
async def decide_extension(
    extension_id: uuid.UUID,
    decision_in: ExtensionDecisionCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
) -> ExtensionRead:
    """The chair of the case's unit approves (the reply date moves by the working days asked,
    weekends and public holidays skipped) or refuses, with a reason. Anyone else: 403."""
    extension = await service.decide_extension(
        session,
        case=case,
        chair=member,
        extension_id=extension_id,
        decision_in=decision_in,
        settings=settings,
        correlation_id=correlation_id,
    )
    return ExtensionRead.model_validate(extension)
