"""Opening permission cases from portals' requests, and the assignee's decision on them.

A permission case rides on the case machinery: it is opened in 'received', assigned by the load
rule (the applicant is its subject, so nobody decides their own or their office's request), and
its moves are announced to the portal like any case's. The decision moves it from review to
'determined' and sends registry permission.decided; registry's record then moves it on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.errors import CaseNotFound
from services.review.cases.history import announce_status, case_history, move_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case, CaseEvent
from services.review.cases.procedure import begin_review, require_assignee
from services.review.cases.service import open_case, unit_for_organisation
from services.review.permissions.errors import AlreadyDecided, NotAPermissionCase
from services.review.permissions.models import PermissionApplication, PermissionDecisionRecord
from services.review.permissions.schemas import PermissionDecisionCreate
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import (
    AccountModerator,
    OfficialAccountPurpose,
    PermissionApplicant,
    PermissionDecided,
    PermissionKind,
    PermissionRequested,
)
from shared.outbox import stage_message

PERMISSION_CASE = "permission"


async def open_permission_case(
    session: AsyncSession,
    *,
    request: PermissionRequested,
    settings: ReviewSettings,
    correlation_id: str,
) -> Case:
    """One case per request, assigned at once when an eligible member exists."""
    unit_id = await unit_for_organisation(session, request.department)
    applicant = request.applicant
    now = utcnow()
    case = Case(
        id=uuid.uuid4(),
        kind=PERMISSION_CASE,
        submission_id=request.request_id,
        subject_position=0,
        unit_id=unit_id,
        department=request.department,
        # The applicant is the subject, for the conflict rule; an official account has none.
        subject_employee_ref=applicant.employee_ref if applicant else "",
        subject_name=applicant.name if applicant else request.account_handle,
        subject_designation=applicant.designation if applicant else "official account",
        subject_office=applicant.office if applicant else "",
        is_group_administrator=False,
        platform=request.platform,
        content_excerpt=request.purpose,
        content_url=request.account_url,
        posted_at=None,
        rules_alleged=[],
        evidence_count=0,
        # The department asks, not a reporter: nobody to keep away from the case on that count.
        reporter_ref="",
        reporter_office_ref="",
        state=CaseState.RECEIVED,
        reported_at=request.received_at,
        updated_at=now,
    )
    return await open_case(
        session,
        case=case,
        reason=f"opened from a {request.kind.replace('_', ' ')} permission request",
        details=[
            PermissionApplication(
                case_id=case.id,
                request_id=request.request_id,
                kind=request.kind,
                account_handle=request.account_handle,
                account_url=request.account_url,
                purpose=request.purpose,
                account_purpose=request.account_purpose,
                moderators=[moderator.model_dump(mode="json") for moderator in request.moderators],
                applicant=applicant.model_dump(mode="json") if applicant else None,
                renewal_of=request.renewal_of,
                received_at=request.received_at,
            )
        ],
        settings=settings,
        correlation_id=correlation_id,
    )


def decision_problems(decision_in: PermissionDecisionCreate, *, today: date) -> list[FieldProblem]:
    """What a decision lacks or must not carry: conditions only with a conditional grant; a
    grant has a period that ends after it starts and is not already over; a refusal has none."""
    problems: list[FieldProblem] = []
    if decision_in.decision == "granted_with_conditions":
        if not decision_in.conditions:
            problems.append(
                FieldProblem(field="conditions", message="required for granted_with_conditions")
            )
    elif decision_in.conditions is not None:
        problems.append(
            FieldProblem(field="conditions", message="only for granted_with_conditions")
        )
    if decision_in.decision == "refused":
        problems.extend(
            FieldProblem(field=name, message="a refusal has no period")
            for name, value in (
                ("valid_from", decision_in.valid_from),
                ("expires_on", decision_in.expires_on),
            )
            if value is not None
        )
        return problems
    valid_from = decision_in.valid_from or today
    if decision_in.expires_on is None:
        problems.append(FieldProblem(field="expires_on", message="required for a grant"))
    elif decision_in.expires_on <= valid_from:
        problems.append(
            FieldProblem(field="expires_on", message=f"must be after valid_from ({valid_from})")
        )
    elif decision_in.expires_on < today:
        problems.append(FieldProblem(field="expires_on", message="is already past"))
    return problems


async def decide_permission(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    decision_in: PermissionDecisionCreate,
    correlation_id: str,
) -> PermissionDecisionRecord:
    """Record the assignee's decision, send it to registry, and tell the portal 'determined'."""
    if case.kind != PERMISSION_CASE:
        raise NotAPermissionCase("Only a permission request can be granted or refused.")
    require_assignee(case, member)
    if await session.get(PermissionDecisionRecord, case.id) is not None:
        raise AlreadyDecided("This request is already decided; a new request renews it.")
    application = await session.get(PermissionApplication, case.id)
    if application is None:  # opened with the case, in the same transaction
        raise CaseNotFound(f"No permission request behind case {case.id}.")
    problems = decision_problems(decision_in, today=utcnow().date())
    if problems:
        raise InvalidInput("The decision is not complete as sent.", errors=problems)
    await begin_review(session, case=case, member=member)
    now = utcnow()
    await move_case(
        session,
        case=case,
        target=CaseState.DETERMINED,
        actor=member,
        reason=f"permission {decision_in.decision.replace('_', ' ')}: {decision_in.reasons}",
        at=now,
    )
    granted = decision_in.decision != "refused"
    decision = PermissionDecisionRecord(
        case_id=case.id,
        decision=decision_in.decision,
        reasons=decision_in.reasons,
        conditions=list(decision_in.conditions or []),
        valid_from=(decision_in.valid_from or now.date()) if granted else now.date(),
        expires_on=decision_in.expires_on if granted else None,
        decided_by=member.id,
        decided_at=now,
    )
    session.add(decision)
    await stage_message(
        session,
        PermissionDecided(
            case_id=case.id,
            submission_id=case.submission_id,
            kind=cast(PermissionKind, application.kind),
            department=case.department,
            decision=decision_in.decision,
            conditions=decision.conditions,
            reasons=decision.reasons,
            platform=case.platform,
            account_handle=application.account_handle,
            account_url=application.account_url,
            purpose=application.purpose,
            account_purpose=cast(OfficialAccountPurpose | None, application.account_purpose),
            moderators=[AccountModerator(**moderator) for moderator in application.moderators],
            applicant=(
                PermissionApplicant(**application.applicant) if application.applicant else None
            ),
            valid_from=decision.valid_from,
            expires_on=decision.expires_on,
            renewal_of=application.renewal_of,
            decided_by=member.id,
            decided_at=now,
        ),
        producer="review",
        correlation_id=correlation_id,
    )
    await announce_status(session, case=case, status="determined", correlation_id=correlation_id)
    await session.flush()
    return decision


@dataclass(frozen=True)
class PermissionCaseRecord:
    application: PermissionApplication
    decision: PermissionDecisionRecord | None
    events: list[CaseEvent]


async def permission_case_record(session: AsyncSession, *, case: Case) -> PermissionCaseRecord:
    if case.kind != PERMISSION_CASE:
        raise NotAPermissionCase("This case is not a permission request.")
    application = await session.get(PermissionApplication, case.id)
    if application is None:
        raise CaseNotFound(f"No permission request behind case {case.id}.")
    events = await case_history(session, case=case)
    return PermissionCaseRecord(
        application=application,
        decision=await session.get(PermissionDecisionRecord, case.id),
        events=events,
    )
