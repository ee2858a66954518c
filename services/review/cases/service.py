"""Opening, assigning and working cases through the gated procedure.

Every move goes through `move_case`, which checks the life cycle and writes the event row; every
change a caller should see is announced through the outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.assignment import Candidate, CaseParties, choose_assignee
from services.review.cases.deadlines import add_working_days
from services.review.cases.errors import CaseNotFound, NotAssignee, NotChair, SeparationOfDuties
from services.review.cases.lifecycle import (
    FINISHED_STATES,
    CaseState,
    IllegalTransition,
    check_transition,
)
from services.review.cases.models import Case, CaseEvent, Determination, Notice, Reply
from services.review.cases.schemas import (
    DeterminationCreate,
    DismissalCreate,
    NoticeCreate,
    ReplyCreate,
)
from services.review.catalogue.models import RuleReference
from services.review.settings import ReviewSettings
from services.review.units.models import Member, UnitJurisdiction
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import (
    CaseStatusChanged,
    DeterminationRecorded,
    RecordCreated,
    ReportReceived,
    SubmissionStatus,
)
from shared.outbox import stage_message


async def move_case(
    session: AsyncSession,
    *,
    case: Case,
    target: CaseState,
    actor: Member | None,
    reason: str,
    at: datetime | None = None,
) -> None:
    check_transition(CaseState(case.state), target)
    now = at or utcnow()
    session.add(
        CaseEvent(
            case_id=case.id,
            from_state=case.state,
            to_state=target,
            actor_member_id=actor.id if actor else None,
            reason=reason,
            occurred_at=now,
        )
    )
    case.state = target
    case.updated_at = now


async def announce_status(
    session: AsyncSession, *, case: Case, status: SubmissionStatus, correlation_id: str
) -> None:
    await stage_message(
        session,
        CaseStatusChanged(
            submission_id=case.submission_id,
            case_id=case.id,
            status=status,
            changed_at=case.updated_at,
        ),
        producer="review",
        correlation_id=correlation_id,
    )


async def unit_for_organisation(session: AsyncSession, organisation_code: str) -> uuid.UUID | None:
    return await session.scalar(
        select(UnitJurisdiction.unit_id)
        .where(UnitJurisdiction.organisation_code == organisation_code)
        .order_by(UnitJurisdiction.unit_id)
        .limit(1)
    )


async def open_cases_for_report(
    session: AsyncSession, *, report: ReportReceived, settings: ReviewSettings, correlation_id: str
) -> list[Case]:
    """One case per subject, assigned at once when an eligible member exists."""
    unit_id = await unit_for_organisation(session, report.department)
    cases: list[Case] = []
    for position, subject in enumerate(report.subjects):
        case = Case(
            id=uuid.uuid4(),
            kind="report",
            submission_id=report.report_id,
            subject_position=position,
            unit_id=unit_id,
            department=report.department,
            subject_employee_ref=subject.employee_ref,
            subject_name=subject.name,
            subject_designation=subject.designation,
            subject_office=subject.office,
            is_group_administrator=subject.is_group_administrator,
            platform=report.platform,
            content_excerpt=report.content_excerpt,
            content_url=report.content_url,
            posted_at=report.posted_at,
            rules_alleged=report.rules_alleged,
            evidence_count=report.evidence_count,
            reporter_ref=report.reporter_ref,
            reporter_office_ref=report.reporter_office_ref,
            state=CaseState.RECEIVED,
            reported_at=report.received_at,
            updated_at=utcnow(),
        )
        session.add(case)
        session.add(
            CaseEvent(
                case_id=case.id,
                from_state=None,
                to_state=CaseState.RECEIVED,
                reason="opened from a report",
                occurred_at=case.updated_at,
            )
        )
        await session.flush()
        if unit_id is not None and await assign_case(session, case=case, settings=settings):
            await announce_status(
                session, case=case, status="assigned", correlation_id=correlation_id
            )
        cases.append(case)
    return cases


async def assign_case(session: AsyncSession, *, case: Case, settings: ReviewSettings) -> bool:
    """Assign the case to the eligible member with the fewest open cases. False if nobody is
    eligible: the case then waits in its unit's queue."""
    if case.unit_id is None:
        return False
    # Locking the unit's members serialises assignment per unit across workers, so two cases
    # assigned at once both see each other's effect on the load.
    members = list(
        (
            await session.scalars(
                select(Member)
                .where(Member.unit_id == case.unit_id)
                .order_by(Member.id)
                .with_for_update()
            )
        ).all()
    )
    load: dict[uuid.UUID | None, int] = dict(
        (
            await session.execute(
                select(Case.assignee_id, func.count())
                .where(
                    Case.assignee_id.in_([m.id for m in members]),
                    Case.state.not_in([s.value for s in FINISHED_STATES]),
                )
                .group_by(Case.assignee_id)
            )
        ).all()
    )
    chosen = choose_assignee(
        [
            Candidate(
                member_id=m.id,
                employee_ref=m.employee_ref,
                office=m.office,
                role=m.role,
                active=m.active,
                on_leave=m.on_leave,
                open_cases=load.get(m.id, 0),
                last_assigned_at=m.last_assigned_at,
            )
            for m in members
        ],
        CaseParties(
            subject_employee_ref=case.subject_employee_ref,
            subject_office=case.subject_office,
            reporter_ref=case.reporter_ref,
            reporter_office_ref=case.reporter_office_ref,
        ),
        pseudonym_key=settings.pseudonym_key.get_secret_value(),
    )
    if chosen is None:
        return False
    member = next(m for m in members if m.id == chosen.member_id)
    await move_case(
        session, case=case, target=CaseState.ASSIGNED, actor=None, reason="assigned by load rule"
    )
    case.assignee_id = member.id
    member.last_assigned_at = case.updated_at
    await session.flush()
    return True


async def cases_for_member(session: AsyncSession, *, member: Member) -> list[Case]:
    """A member sees the cases assigned to them; the chair sees every case of the unit."""
    query = select(Case).order_by(Case.opened_at, Case.id)
    if member.role == "chair":
        query = query.where(Case.unit_id == member.unit_id)
    else:
        query = query.where(Case.assignee_id == member.id)
    return list((await session.scalars(query.limit(500))).all())


async def case_for_member(session: AsyncSession, *, case_id: uuid.UUID, member: Member) -> Case:
    """The case if this member may see it; 404 otherwise, whether or not it exists."""
    visible = or_(
        Case.assignee_id == member.id,
        (Case.unit_id == member.unit_id) if member.role == "chair" else false(),
    )
    case = await session.scalar(select(Case).where(Case.id == case_id, visible).with_for_update())
    if case is None:
        raise CaseNotFound(f"No case {case_id} for this member.")
    return case


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
    require_assignee(case, member)
    await begin_review(session, case=case, member=member)
    await move_case(
        session, case=case, target=CaseState.NOTICE_ISSUED, actor=member, reason="notice served"
    )
    days = await reply_window_days(session, case=case, settings=settings)
    notice = Notice(
        case_id=case.id,
        allegations=notice_in.allegations,
        reply_due_on=add_working_days(case.updated_at.date(), days),
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
    require_assignee(case, member)
    await move_case(
        session,
        case=case,
        target=CaseState.REPLY_RECEIVED,
        actor=member,
        reason="employee's reply received",
    )
    reply = Reply(
        case_id=case.id,
        statement=reply_in.statement,
        received_at=reply_in.received_at or case.updated_at,
        recorded_by=member.id,
    )
    session.add(reply)
    await announce_status(
        session, case=case, status="reply_received", correlation_id=correlation_id
    )
    await session.flush()
    return reply


async def record_determination(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    determination_in: DeterminationCreate,
    correlation_id: str,
) -> Determination:
    """Record the assignee's finding. A cleared finding is final at once; a violation waits for
    the chair's countersignature."""
    require_assignee(case, member)
    not_alleged = [
        FieldProblem(field=f"rules_cited.{index}", message=f"'{code}' was not alleged in this case")
        for index, code in enumerate(determination_in.rules_cited)
        if code not in case.rules_alleged
    ]
    if not_alleged:
        raise InvalidInput("A finding may cite only rules alleged in the case.", errors=not_alleged)
    await move_case(
        session,
        case=case,
        target=CaseState.DETERMINED,
        actor=member,
        reason=f"finding recorded: {determination_in.finding}",
    )
    determination = Determination(
        case_id=case.id,
        finding=determination_in.finding,
        rules_cited=list(dict.fromkeys(determination_in.rules_cited)),
        reasons=determination_in.reasons,
        recorded_by=member.id,
        recorded_at=case.updated_at,
    )
    session.add(determination)
    await session.flush()
    if determination.finding == "cleared":
        await finalise_determination(
            session, case=case, determination=determination, correlation_id=correlation_id
        )
    return determination


async def countersign(
    session: AsyncSession, *, case: Case, chair: Member, correlation_id: str
) -> Determination:
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
    session.add(
        CaseEvent(
            case_id=case.id,
            from_state=case.state,
            to_state=case.state,
            actor_member_id=chair.id,
            reason="violation finding countersigned by the chair",
            occurred_at=determination.countersigned_at,
        )
    )
    await finalise_determination(
        session, case=case, determination=determination, correlation_id=correlation_id
    )
    return determination


async def finalise_determination(
    session: AsyncSession, *, case: Case, determination: Determination, correlation_id: str
) -> None:
    """A final finding goes to registry and the caller's status moves to 'determined'."""
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
    require_assignee(case, member)
    await begin_review(session, case=case, member=member)
    await move_case(
        session, case=case, target=CaseState.DISMISSED, actor=member, reason=dismissal_in.reasons
    )
    await announce_status(session, case=case, status="dismissed", correlation_id=correlation_id)
    await session.flush()


async def mark_recorded(session: AsyncSession, *, record: RecordCreated) -> None:
    case = await session.scalar(select(Case).where(Case.id == record.case_id).with_for_update())
    if case is None or case.state != CaseState.DETERMINED:
        return
    await move_case(
        session,
        case=case,
        target=CaseState.RECORDED,
        actor=None,
        reason=f"registry record {record.record_id} created",
        at=record.recorded_at,
    )
    await session.flush()


async def case_history(
    session: AsyncSession, *, case: Case
) -> tuple[list[CaseEvent], Notice | None, Determination | None]:
    events = list(
        (
            await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.occurred_at, CaseEvent.id)
            )
        ).all()
    )
    return events, await session.get(Notice, case.id), await session.get(Determination, case.id)
