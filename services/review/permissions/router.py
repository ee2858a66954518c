"""Permission-case endpoints for monitoring-unit members: read the request, decide it."""

from __future__ import annotations

from fastapi import APIRouter

from services.review.cases.errors import CaseNotFound, NotAssignee
from services.review.cases.lifecycle import IllegalTransition
from services.review.cases.models import Case
from services.review.cases.router import MemberCase
from services.review.cases.schemas import CaseEventRead
from services.review.permissions import service
from services.review.permissions.errors import AlreadyDecided, NotAPermissionCase
from services.review.permissions.schemas import (
    PermissionCaseRead,
    PermissionDecisionCreate,
    PermissionDecisionRead,
)
from services.review.units.auth import CurrentMember
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession
from shared.messages import AccountModerator, PermissionApplicant

router = APIRouter(prefix="/v1/cases", tags=["permission cases"])


async def read_permission_case(session: DbSession, case: Case) -> PermissionCaseRead:
    record = await service.permission_case_record(session, case=case)
    application = record.application
    return PermissionCaseRead(
        id=case.id,
        submission_id=case.submission_id,
        permission_kind=application.kind,
        state=case.state,
        department=case.department,
        assignee_id=case.assignee_id,
        platform=case.platform,
        account_handle=application.account_handle,
        account_url=application.account_url,
        purpose=application.purpose,
        account_purpose=application.account_purpose,
        applicant=(
            PermissionApplicant.model_validate(application.applicant)
            if application.applicant
            else None
        ),
        moderators=[AccountModerator.model_validate(m) for m in application.moderators],
        renewal_of=application.renewal_of,
        received_at=application.received_at,
        decision=(
            PermissionDecisionRead.model_validate(record.decision) if record.decision else None
        ),
        history=[CaseEventRead.model_validate(event) for event in record.events],
    )


@router.get(
    "/{case_id}/permission",
    response_model=PermissionCaseRead,
    responses=responses_for(Unauthenticated, CaseNotFound, NotAPermissionCase),
)
async def get_permission_case(case: MemberCase, session: DbSession) -> PermissionCaseRead:
    """A permission case: the request as the portal sent it, the decision if made, and the
    case's history."""
    return await read_permission_case(session, case)


@router.post(
    "/{case_id}/permission-decision",
    response_model=PermissionCaseRead,
    responses=responses_for(
        Unauthenticated,
        NotAssignee,
        CaseNotFound,
        NotAPermissionCase,
        AlreadyDecided,
        IllegalTransition,
        InvalidInput,
    ),
)
async def decide_permission(
    decision_in: PermissionDecisionCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> PermissionCaseRead:
    """Grant, grant with conditions, or refuse the request, with reasons. A grant needs
    `expires_on` (and may set `valid_from`, default today); conditions go with
    `granted_with_conditions` only. Only the assigned member decides, once; the decision goes
    to the registry and the portal's status moves to 'determined'."""
    await service.decide_permission(
        session, case=case, member=member, decision_in=decision_in, correlation_id=correlation_id
    )
    return await read_permission_case(session, case)
