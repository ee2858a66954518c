"""The confirmation track's own step on an institutional-finding case: accepting the
institution's record of notice and reply instead of serving a second notice."""

from __future__ import annotations

from fastapi import APIRouter

from services.review.cases.errors import CaseNotFound, NotAssignee
from services.review.cases.lifecycle import IllegalTransition
from services.review.cases.router import MemberCase, read_case
from services.review.cases.schemas import CaseRead
from services.review.institutional_findings import service
from services.review.institutional_findings.schemas import RecordAcceptanceCreate
from services.review.units.auth import CurrentMember
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.post(
    "/{case_id}/notice-and-reply-on-record",
    response_model=CaseRead,
    responses=responses_for(
        Unauthenticated, NotAssignee, CaseNotFound, IllegalTransition, InvalidInput
    ),
)
async def accept_record_of_notice_and_reply(
    acceptance_in: RecordAcceptanceCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """Accept the institution's record that the employee was given notice and replied, in place
    of a notice of the unit's own; the hearing (held or waived) and the determination follow as
    on any case. Only on an institutional-finding case whose row says the record shows both,
    before any notice; `checked` says what the member verified in it, and the case's history
    names the institution's finding reference."""
    await service.accept_record_of_notice_and_reply(
        session,
        case=case,
        member=member,
        acceptance_in=acceptance_in,
        correlation_id=correlation_id,
    )
    return await read_case(session, case)
