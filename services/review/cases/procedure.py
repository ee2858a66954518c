"""The due-process steps a member takes on a case: notice, reply, hearing, determination, the
chair's countersignature, or dismissal. Each step checks who may take it and moves the case
through the life cycle, which refuses a step whose gate is not met (409 naming the gate).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.deadlines import add_working_days
from services.review.cases.errors import (
    NotAssignee,
    NotChair,
    NotDueProcessCase,
    SeparationOfDuties,
)
from services.review.cases.history import announce_state, announce_status, move_case, note_on_case
from services.review.cases.lifecycle import CaseState, IllegalTransition, check_transition
from services.review.cases.models import Case, Determination, Hearing, Notice, Reply
from services.review.cases.schemas import (
    DeterminationCreate,
    DismissalCreate,
    HearingCreate,
    NoticeCreate,
    ReplyCreate,
)
from services.review.catalogue.models import RuleReference
from services.review.charges.findings import proved_rules, weigh_determination
from services.review.charges.notice import generate_notice_content
from services.review.institutional_findings.models import InstitutionalFinding
from services.review.screening.gate import require_screen_to_proceed
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import DeterminationRecorded
from shared.outbox import stage_message
from shared.tracing import resuming


def require_due_process_case(case: Case) -> None:
    """A permission request is decided on its own endpoint, never by notice and finding."""
    if case.kind == "permission":
        raise NotDueProcessCase(
            "This is a permission request: it has no notice, reply, hearing or finding; decide "
            f"it with POST /v1/cases/{case.id}/permission-decision."
        )


def require_assignee(case: Case, member: Member) -> None:
    if case.assignee_id != member.id:
        raise NotAssignee("Only the member assigned to this case may take this step.")


async def begin_review(session: AsyncSession, *, case: Case, member: Member) -> None:
    """The first action of the assignee on an assigned case opens the review."""
    if case.state == CaseState.ASSIGNED:
        await move_case(
            session, case=case, target=CaseState.IN_REVIEW, actor=member, reason="review begun"
        )


async def reply_window_days(session: AsyncSession, *, case: Case, settings: ReviewSettings) -> int:
    """The longest window among the alleged rules (the employee gets the most generous)."""
    days = await session.scalar(
        select(func.max(RuleReference.reply_window_working_days)).where(
            RuleReference.code.in_(case.rules_alleged)
        )
    )
    return int(days or settings.default_reply_window_working_days)


async def serve_notice(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    notice_in: NoticeCreate,
    settings: ReviewSettings,
    correlation_id: str,
) -> Notice:
    require_due_process_case(case)
    require_assignee(case, member)
    await require_screen_to_proceed(session, case=case)
    await begin_review(session, case=case, member=member)
    await move_case(
        session, case=case, target=CaseState.NOTICE_ISSUED, actor=member, reason="notice served"
    )
    # Generated from the charges, which the move has just frozen; none: refused, rolled back.
    allegations, bundle = await generate_notice_content(
        session, case=case, served_at=case.updated_at
    )
    days = await reply_window_days(session, case=case, settings=settings)
    notice = Notice(
        case_id=case.id,
        allegations=notice_in.allegations,
        generated_allegations=allegations,
        disclosure_bundle=bundle,
        reply_due_on=add_working_days(
            case.updated_at.date(), days, holidays=settings.public_holidays
        ),
        issued_by=member.id,
        issued_at=case.updated_at,
    )
    session.add(notice)
    await announce_status(session, case=case, status="notice_issued", correlation_id=correlation_id)
    await session.flush()
    return notice


async def record_reply(
    session: AsyncSession, *, case: Case, member: Member, reply_in: ReplyCreate, correlation_id: str
) -> Reply:
    require_due_process_case(case)
    require_assignee(case, member)
    return await receive_reply(
        session,
        case=case,
        actor=member,
        statement=reply_in.statement,
        received_at=reply_in.received_at,
        reason="employee's reply received",
        correlation_id=correlation_id,
    )


async def receive_reply(
    session: AsyncSession,
    *,
    case: Case,
    actor: Member | None,
    statement: str,
    received_at: datetime | None,
    reason: str,
    correlation_id: str,
) -> Reply:
    """The reply step itself, whoever brings the reply: the assigned member (`actor`) or the
    employee through the department's portal (no member: `reason` says so)."""
    await move_case(session, case=case, target=CaseState.REPLY_RECEIVED, actor=actor, reason=reason)
    reply = Reply(
        case_id=case.id,
        statement=statement,
        received_at=received_at or case.updated_at,
        recorded_by=actor.id if actor else None,
    )
    session.add(reply)
    await announce_status(
        session, case=case, status="reply_received", correlation_id=correlation_id
    )
    await session.flush()
    return reply


def hearing_problems(
    hearing_in: HearingCreate, *, served_at: datetime, served: str, now: datetime
) -> list[FieldProblem]:
    """What is wrong with a hearing record: it is either held (date, attendees, minutes) or
    waived (with the reason), never a mix; a held hearing falls between the notice (`served`
    at `served_at`: the unit's notice, or its acceptance of an institution's record of notice
    and reply) and today."""
    held = {
        "held_on": hearing_in.held_on,
        "attendees": hearing_in.attendees,
        "minutes": hearing_in.minutes,
    }
    if hearing_in.waived:
        problems = [
            FieldProblem(field=name, message="not part of a waived hearing")
            for name, value in held.items()
            if value is not None
        ]
        if hearing_in.reason is None:
            problems.append(
                FieldProblem(field="reason", message="required: why the employee waived it")
            )
        return problems
    problems = [
        FieldProblem(field=name, message="required for a hearing held (or send waived and reason)")
        for name, value in held.items()
        if value is None
    ]
    if hearing_in.reason is not None:
        problems.append(FieldProblem(field="reason", message="only for a waived hearing"))
    if hearing_in.held_on is not None:
        # Dates are the unit's local dates; compare with the widest span of dates the instant
        # can be anywhere (UTC-12 to UTC+14), so no time zone refuses a true date.
        served_on = (served_at - timedelta(hours=12)).date()
        today = (now + timedelta(hours=14)).date()
        if hearing_in.held_on > today:
            problems.append(FieldProblem(field="held_on", message="is in the future"))
        elif hearing_in.held_on < served_on:
            problems.append(
                FieldProblem(field="held_on", message=f"is before {served} ({served_at.date()})")
            )
    return problems


async def record_hearing(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    hearing_in: HearingCreate,
    correlation_id: str,
) -> Hearing:
    """Record the hearing as held or waived. Only once the reply is in or its window closed,
    and only once."""
    require_due_process_case(case)
    require_assignee(case, member)
    # The procedure first: a hearing out of turn is refused for that, whatever its body says.
    check_transition(CaseState(case.state), CaseState.HEARING_CONCLUDED)
    notice = await session.get(Notice, case.id)
    if notice is not None:
        served_at, served = notice.issued_at, "the notice was served"
    else:
        # The life cycle admits a hearing without a notice only on the confirmation track,
        # once the institution's record of notice and reply was accepted in its place.
        finding = await session.get(InstitutionalFinding, case.id)
        if finding is None or finding.record_accepted_at is None:
            raise IllegalTransition("There is no notice on this case.")
        served_at = finding.record_accepted_at
        served = "the institution's record of notice and reply was accepted"
    now = utcnow()
    problems = hearing_problems(hearing_in, served_at=served_at, served=served, now=now)
    if problems:
        raise InvalidInput(
            "A hearing is either held or waived, as its fields say.", errors=problems
        )
    if hearing_in.waived:
        reason = f"hearing waived by the employee: {hearing_in.reason}"
    else:
        reason = (
            f"hearing held on {hearing_in.held_on} with {len(hearing_in.attendees or [])} "
            "attendee(s)"
        )
    await move_case(
        session,
        case=case,
        target=CaseState.HEARING_CONCLUDED,
        actor=member,
        reason=reason,
        at=now,
    )
    hearing = Hearing(
        case_id=case.id,
        outcome="waived" if hearing_in.waived else "held",
        held_on=hearing_in.held_on,
        attendees=list(hearing_in.attendees or []),
        minutes=hearing_in.minutes,
        waiver_reason=hearing_in.reason if hearing_in.waived else None,
        recorded_by=member.id,
        recorded_at=now,
    )
    session.add(hearing)
    await announce_state(session, case=case, correlation_id=correlation_id)
    await session.flush()
    return hearing


async def record_determination(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    determination_in: DeterminationCreate,
    correlation_id: str,
) -> Determination:
    """Record the assignee's finding on each charge, once notice, reply (or lapse) and hearing
    are behind the case. A cleared finding is final at once; a violation waits for the chair's
    countersignature."""
    require_due_process_case(case)
    require_assignee(case, member)
    verdict = await weigh_determination(
        session,
        case=case,
        finding=determination_in.finding,
        charges=determination_in.charges,
        recommended_penalty=determination_in.recommended_penalty,
    )
    await move_case(
        session,
        case=case,
        target=CaseState.DETERMINED,
        actor=member,
        reason=f"finding recorded: {verdict.finding}",
    )
    determination = Determination(
        case_id=case.id,
        finding=verdict.finding,
        rules_cited=verdict.rules_cited,
        reasons=determination_in.reasons,
        recommended_penalty=verdict.recommended_penalty,
        recorded_by=member.id,
        recorded_at=case.updated_at,
    )
    session.add(determination)
    await session.flush()
    session.add_all(verdict.charge_findings)
    await session.flush()
    if determination.finding == "cleared":
        await finalise_determination(
            session, case=case, determination=determination, correlation_id=correlation_id
        )
    return determination


async def countersign(
    session: AsyncSession, *, case: Case, chair: Member, correlation_id: str
) -> Determination:
    require_due_process_case(case)
    if chair.role != "chair" or chair.unit_id != case.unit_id:
        raise NotChair("Only the chair of this case's unit may countersign.")
    determination = await session.get(Determination, case.id, with_for_update=True)
    if determination is None or determination.finding != "violation":
        raise IllegalTransition(
            "There is no violation finding on this case awaiting countersignature."
        )
    if determination.countersigned_at is not None:
        raise IllegalTransition("This finding is already countersigned.")
    if determination.recorded_by == chair.id:
        raise SeparationOfDuties("The member who recorded the finding may not countersign it.")
    determination.countersigned_by = chair.id
    determination.countersigned_at = utcnow()
    note_on_case(
        session,
        case=case,
        actor=chair,
        reason="violation finding countersigned by the chair",
        at=determination.countersigned_at,
    )
    await finalise_determination(
        session, case=case, determination=determination, correlation_id=correlation_id
    )
    return determination


async def finalise_determination(
    session: AsyncSession, *, case: Case, determination: Determination, correlation_id: str
) -> None:
    """A final finding goes to registry and the caller's status moves to 'determined'. Its
    message goes on in the trace of the submission that opened the case, linked to the step
    taken now (the member's or the chair's request)."""
    with resuming("case.determination_final", trace_context=case.trace_context):
        await stage_final_determination(
            session, case=case, determination=determination, correlation_id=correlation_id
        )


async def stage_final_determination(
    session: AsyncSession, *, case: Case, determination: Determination, correlation_id: str
) -> None:
    await stage_message(
        session,
        DeterminationRecorded(
            case_id=case.id,
            submission_id=case.submission_id,
            department=case.department,
            employee_ref=case.subject_employee_ref,
            employee_name=case.subject_name,
            finding="violation" if determination.finding == "violation" else "cleared",
            rules_cited=determination.rules_cited,
            reasons=determination.reasons,
            platform=case.platform,
            determined_by=determination.recorded_by,
            countersigned_by=determination.countersigned_by,
            effective_on=(determination.countersigned_at or determination.recorded_at).date(),
            reported_at=case.reported_at,
            proved_rules=await proved_rules(session, case=case),
            recommended_penalty=determination.recommended_penalty,
        ),
        producer="review",
        correlation_id=correlation_id,
    )
    await announce_status(session, case=case, status="determined", correlation_id=correlation_id)
    await session.flush()


async def dismiss_case(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    dismissal_in: DismissalCreate,
    correlation_id: str,
) -> None:
    require_due_process_case(case)
    require_assignee(case, member)
    await begin_review(session, case=case, member=member)
    await move_case(
        session, case=case, target=CaseState.DISMISSED, actor=member, reason=dismissal_in.reasons
    )
    await announce_status(session, case=case, status="dismissed", correlation_id=correlation_id)
    await session.flush()
