"""Appeal endpoints on a case: the unit records the employee's appeal; its appellate authority
decides it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from services.review.appeals import service
from services.review.appeals.errors import (
    AppealGateNotMet,
    AppealNotFound,
    AppealSeparationOfDuties,
    NotAppealClerk,
    NotAppellateAuthority,
)
from services.review.appeals.models import Appeal
from services.review.appeals.schemas import AppealCreate, AppealDecisionCreate, AppealRead
from services.review.cases.errors import CaseNotFound
from services.review.cases.lifecycle import IllegalTransition
from services.review.cases.models import Case
from services.review.settings import ReviewSettings, current_settings
from services.review.units.auth import CurrentMember
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession

router = APIRouter(prefix="/v1/cases", tags=["appeals"])
Settings = Annotated[ReviewSettings, Depends(current_settings)]


async def case_in_unit(case_id: uuid.UUID, member: CurrentMember, session: DbSession) -> Case:
    return await service.case_in_members_unit(session, case_id=case_id, member=member)


UnitCase = Annotated[Case, Depends(case_in_unit)]


def read_appeal(appeal: Appeal, case: Case) -> AppealRead:
    return AppealRead.model_validate(
        {
            **{name: getattr(appeal, name) for name in AppealRead.model_fields if name != "state"},
            "state": case.state,
        }
    )


@router.post(
    "/{case_id}/appeal",
    response_model=AppealRead,
    status_code=201,
    responses=responses_for(
        Unauthenticated,
        NotAppealClerk,
        CaseNotFound,
        AppealGateNotMet,
        IllegalTransition,
        InvalidInput,
    ),
)
async def file_appeal(
    appeal_in: AppealCreate,
    case: UnitCase,
    member: CurrentMember,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
) -> AppealRead:
    """Record the employee's appeal against a recorded violation, with its grounds and the day
    it was filed. The employee files it through the portal; the unit's secretary or chair
    records it here. Refused outside the appeal window (REVIEW_APPEAL_WINDOW_DAYS calendar days
    from the day the finding became final) or unless the case holds a recorded violation not
    yet appealed (409 naming the gate)."""
    appeal = await service.file_appeal(
        session,
        case=case,
        member=member,
        appeal_in=appeal_in,
        appeal_window_days=settings.appeal_window_days,
        correlation_id=correlation_id,
    )
    return read_appeal(appeal, case)


@router.post(
    "/{case_id}/appeal-decision",
    response_model=AppealRead,
    responses=responses_for(
        Unauthenticated,
        AppealSeparationOfDuties,
        NotAppellateAuthority,
        CaseNotFound,
        AppealGateNotMet,
        IllegalTransition,
        InvalidInput,
    ),
)
async def decide_appeal(
    decision_in: AppealDecisionCreate,
    case: UnitCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> AppealRead:
    """The appellate authority's decision: upheld, modified (the rules the finding now stands
    on and/or the finding restated) or set aside, with reasons. Registry records it as a new
    record superseding the violation. The investigator and the countersigning chair may never
    decide it (403, separation of duties)."""
    appeal = await service.decide_appeal(
        session, case=case, member=member, decision_in=decision_in, correlation_id=correlation_id
    )
    return read_appeal(appeal, case)


@router.get(
    "/{case_id}/appeal",
    response_model=AppealRead,
    responses=responses_for(Unauthenticated, CaseNotFound, AppealNotFound),
)
async def read_case_appeal(case: UnitCase, session: DbSession) -> AppealRead:
    """The case's appeal and its decision, to any member of the case's unit."""
    appeal = await service.appeal_of(session, case=case)
    if appeal is None:
        raise AppealNotFound(f"Case {case.id} has no appeal.")
    return read_appeal(appeal, case)
