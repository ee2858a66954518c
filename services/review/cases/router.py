"""Case endpoints for monitoring-unit members, each call attributed to the member's credential."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.review.cases import procedure, service
from services.review.cases.errors import CaseNotFound, NotAssignee, NotChair, SeparationOfDuties
from services.review.cases.lifecycle import CaseState, IllegalTransition
from services.review.cases.models import Case
from services.review.cases.schemas import (
    CaseEventRead,
    CaseList,
    CaseRead,
    CaseSummary,
    DeterminationCreate,
    DeterminationRead,
    DismissalCreate,
    HearingCreate,
    HearingRead,
    NoticeCreate,
    ReplyCreate,
)
from services.review.charges.errors import NoCharges
from services.review.charges.notice import notice_read
from services.review.charges.schemas import CaseEvidenceRead, ChargeFindingRead, ChargeRead
from services.review.institutional_findings.schemas import InstitutionalFindingRead
from services.review.institutional_findings.service import finding_of
from services.review.notices.service import deliver_notice, due_process_of
from services.review.screening.errors import ScreenRequired
from services.review.settings import ReviewSettings, current_settings
from services.review.units.auth import CurrentMember
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Settings = Annotated[ReviewSettings, Depends(current_settings)]


async def case_of_member(case_id: uuid.UUID, member: CurrentMember, session: DbSession) -> Case:
    return await service.case_for_member(session, case_id=case_id, member=member)


MemberCase = Annotated[Case, Depends(case_of_member)]
ACTION_ERRORS = responses_for(
    Unauthenticated, NotAssignee, CaseNotFound, IllegalTransition, InvalidInput
)
NOTICE_ERRORS = responses_for(
    Unauthenticated,
    NotAssignee,
    CaseNotFound,
    IllegalTransition,
    ScreenRequired,
    NoCharges,
    InvalidInput,
)


def summary_of(case: Case, *, escalated_at: datetime | None) -> CaseSummary:
    return CaseSummary.model_validate(case).model_copy(update={"escalated_at": escalated_at})


def charge_findings_read(record: service.CaseRecord) -> list[ChargeFindingRead]:
    charges = {charge.id: charge for charge in record.charges}
    return sorted(
        (
            ChargeFindingRead(
                charge_id=finding.charge_id,
                number=charges[finding.charge_id].number,
                rule=charges[finding.charge_id].rule,
                finding="proved" if finding.finding == "proved" else "not_proved",
                reasons=finding.reasons,
                evidence_relied_on=finding.evidence_relied_on,
            )
            for finding in record.charge_findings
        ),
        key=lambda finding: finding.number,
    )


async def read_case(session: DbSession, case: Case) -> CaseRead:
    record = await service.case_record(session, case=case)
    notice, hearing, determination = record.notice, record.hearing, record.determination
    return CaseRead(
        **summary_of(case, escalated_at=record.escalated_at).model_dump(),
        subject_employee_ref=case.subject_employee_ref,
        subject_designation=case.subject_designation,
        subject_office=case.subject_office,
        is_group_administrator=case.is_group_administrator,
        content_excerpt=case.content_excerpt,
        content_url=case.content_url,
        posted_at=case.posted_at,
        evidence_count=case.evidence_count,
        evidence=[CaseEvidenceRead.model_validate(item) for item in record.evidence],
        charges=[ChargeRead.model_validate(charge) for charge in record.charges],
        notice=notice_read(notice) if notice else None,
        hearing=HearingRead.model_validate(hearing) if hearing else None,
        determination=(
            DeterminationRead(
                finding=determination.finding,
                rules_cited=determination.rules_cited,
                reasons=determination.reasons,
                charges=charge_findings_read(record),
                recommended_penalty=determination.recommended_penalty,
                recorded_by=determination.recorded_by,
                recorded_at=determination.recorded_at,
                countersigned_by=determination.countersigned_by,
                countersigned_at=determination.countersigned_at,
                final=determination.finding == "cleared"
                or determination.countersigned_at is not None,
            )
            if determination
            else None
        ),
        institutional_finding=(
            InstitutionalFindingRead.model_validate(finding)
            if (finding := await finding_of(session, case=case))
            else None
        ),
        history=[CaseEventRead.model_validate(event) for event in record.events],
        **(await due_process_of(session, case=case)).model_dump(),
    )


@router.get("", response_model=CaseList, responses=responses_for(Unauthenticated, InvalidInput))
async def list_cases(
    member: CurrentMember,
    session: DbSession,
    escalated: Annotated[
        bool | None,
        Query(description="Only cases escalated to the chair in their current stage (or not)"),
    ] = None,
    state: Annotated[
        list[CaseState] | None,
        Query(description="Only cases in these states (repeat the parameter for several)"),
    ] = None,
    after: Annotated[
        uuid.UUID | None, Query(description="The `next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Cases per page")] = 100,
) -> CaseList:
    """Cases assigned to the calling member; for the chair, every case of the unit, including
    those waiting in its queue (no assignee). Oldest first, a page at a time."""
    cases, next_cursor = await service.cases_for_member(
        session, member=member, escalated=escalated, states=state or (), after=after, limit=limit
    )
    escalations = await service.current_escalations(session, cases=cases)
    return CaseList(
        items=[summary_of(case, escalated_at=escalations.get(case.id)) for case in cases],
        next_cursor=next_cursor,
    )


@router.get(
    "/{case_id}", response_model=CaseRead, responses=responses_for(Unauthenticated, CaseNotFound)
)
async def get_case(case: MemberCase, session: DbSession) -> CaseRead:
    """One case with its notice, determination and full history."""
    return await read_case(session, case)


@router.post("/{case_id}/notice", response_model=CaseRead, responses=NOTICE_ERRORS)
async def serve_notice(
    notice_in: NoticeCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """Serve the notice generated from the case's standing charges: one allegation per charge
    (rule, clause, what is alleged, the evidence it relies on), the evidence list, the reply
    deadline in working days, and the redacted disclosure bundle (GET .../notice/bundle). The
    member may add words of their own in `allegations`. Refused (409) without a charge, and
    until the protected-disclosure screen let the charge go forward; the charges are frozen
    from then on. The notice, as this page shows it, goes to the department's portal for the
    employee."""
    served = await procedure.serve_notice(
        session,
        case=case,
        member=member,
        notice_in=notice_in,
        settings=settings,
        correlation_id=correlation_id,
    )
    case_read = await read_case(session, case)
    if case_read.notice is not None:
        await deliver_notice(
            session,
            case=case,
            notice=case_read.notice,
            reply_due_on=served.reply_due_on,
            correlation_id=correlation_id,
        )
    return case_read


@router.post("/{case_id}/reply", response_model=CaseRead, responses=ACTION_ERRORS)
async def record_reply(
    reply_in: ReplyCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """Record the employee's reply to the notice."""
    await procedure.record_reply(
        session, case=case, member=member, reply_in=reply_in, correlation_id=correlation_id
    )
    return await read_case(session, case)


@router.post("/{case_id}/hearing", response_model=CaseRead, responses=ACTION_ERRORS)
async def record_hearing(
    hearing_in: HearingCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """Record the hearing: held (`held_on`, `attendees`, `minutes`) or waived by the employee
    (`waived: true`, `reason`). Only after the reply is in or its window closed, and once."""
    await procedure.record_hearing(
        session, case=case, member=member, hearing_in=hearing_in, correlation_id=correlation_id
    )
    return await read_case(session, case)


@router.post("/{case_id}/determination", response_model=CaseRead, responses=ACTION_ERRORS)
async def record_determination(
    determination_in: DeterminationCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """Record a finding on each standing charge (`charges`: proved or not proved, reasons, the
    evidence relied on among the charge's own) and, when any is proved, a recommended penalty
    from the penalties catalogue; the case's finding follows. Only after notice, reply (or a
    lapsed window) and a hearing held or waived; a violation is final only once the chair
    countersigns."""
    await procedure.record_determination(
        session,
        case=case,
        member=member,
        determination_in=determination_in,
        correlation_id=correlation_id,
    )
    return await read_case(session, case)


@router.post(
    "/{case_id}/countersign",
    response_model=CaseRead,
    responses=responses_for(
        Unauthenticated, NotChair, SeparationOfDuties, CaseNotFound, IllegalTransition
    ),
)
async def countersign(
    case: MemberCase, member: CurrentMember, session: DbSession, correlation_id: CorrelationIdHeader
) -> CaseRead:
    """The chair's second signature, which makes a violation finding final and sends it to the
    registry. The member who recorded the finding may not countersign it."""
    await procedure.countersign(session, case=case, chair=member, correlation_id=correlation_id)
    return await read_case(session, case)


@router.post("/{case_id}/dismissal", response_model=CaseRead, responses=ACTION_ERRORS)
async def dismiss_case(
    dismissal_in: DismissalCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """Dismiss a case with no case to answer, before any notice, with reasons."""
    await procedure.dismiss_case(
        session, case=case, member=member, dismissal_in=dismissal_in, correlation_id=correlation_id
    )
    return await read_case(session, case)
