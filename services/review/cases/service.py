"""Opening cases from reports, finding the cases a member may see, reading a case's record, and
following registry's records. Who holds a case is `assignment_service`; the due-process steps
are `procedure`; the scheduled sweeps are `deadline_sweeps`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, false, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.assignment_service import assign_case
from services.review.cases.closing import APPEAL_OUTCOME_RECORD, close_case, closes_when_recorded
from services.review.cases.errors import CaseNotFound
from services.review.cases.history import announce_status, case_history, move_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import (
    Case,
    CaseEscalation,
    CaseEvent,
    Determination,
    Hearing,
    Notice,
)
from services.review.charges.drafting import ReportedItems, draft_charges
from services.review.charges.models import CaseEvidence, Charge, ChargeFinding
from services.review.charges.repository import charges_of, evidence_of, findings_of
from services.review.settings import ReviewSettings
from services.review.triage.service import request_permission_check
from services.review.units.models import Member, UnitJurisdiction
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import RecordCreated, ReportReceived
from shared.tracing import current_trace_context


async def unit_for_organisation(session: AsyncSession, organisation_code: str) -> uuid.UUID | None:
    return await session.scalar(
        select(UnitJurisdiction.unit_id)
        .where(UnitJurisdiction.organisation_code == organisation_code)
        .order_by(UnitJurisdiction.unit_id)
        .limit(1)
    )


async def open_cases_for_report(
    session: AsyncSession,
    *,
    report: ReportReceived,
    settings: ReviewSettings,
    correlation_id: str,
    assign_after_commit: bool = False,
) -> list[Case]:
    """One case per subject, assigned at once when an eligible member exists (or, with
    `assign_after_commit`, by the assigner that runs after this transaction: see
    `open_case`)."""
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
        await open_case(
            session,
            case=case,
            reason="opened from a report",
            evidence=report.evidence,
            settings=settings,
            correlation_id=correlation_id,
            assign_after_commit=assign_after_commit,
        )
        await request_permission_check(
            session,
            case=case,
            account_handles=report.account_handles,
            settings=settings,
            correlation_id=correlation_id,
        )
        cases.append(case)
    return cases


async def open_case(
    session: AsyncSession,
    *,
    case: Case,
    reason: str,
    details: Sequence[object] = (),
    evidence: ReportedItems = None,
    settings: ReviewSettings,
    correlation_id: str,
    assign_after_commit: bool = False,
) -> Case:
    """Record a new case (in state received, built by its kind's opener) with its opening
    event and its kind's own detail rows, and draft its evidence items and charges (from its
    rules alleged, and the report's `evidence` items when given), then assign it at once when
    an eligible member exists and tell intake. Every kind of case is opened here, so every
    kind is assigned alike.

    With `assign_after_commit` the case is only marked as awaiting assignment, and the caller
    runs the unit's assigner once this transaction has committed (`assign_awaiting_cases`, as
    the message consumers do): many cases opened at once are then assigned in batches under one
    roster lock each, rather than one lock per case, by the same rule. A case the assigner
    never reached (its worker died in between) is taken by the waiting-case sweep."""
    if assign_after_commit and case.unit_id is not None:
        case.awaiting_assignment_for = correlation_id
    case.trace_context = current_trace_context()
    session.add(case)
    session.add(
        CaseEvent(
            case_id=case.id,
            from_state=None,
            to_state=CaseState.RECEIVED,
            reason=reason,
            occurred_at=case.updated_at,
        )
    )
    await session.flush()
    session.add_all(details)
    await session.flush()
    await draft_charges(session, case=case, reported=evidence)
    if assign_after_commit:
        return case
    if case.unit_id is not None and await assign_case(session, case=case, settings=settings):
        await announce_status(session, case=case, status="assigned", correlation_id=correlation_id)
    return case


# The states in which a case is before the unit's appellate authority.
UNDER_APPEAL = (CaseState.APPEALED.value, CaseState.APPEAL_DECIDED.value)


async def cases_for_member(
    session: AsyncSession,
    *,
    member: Member,
    escalated: bool | None = None,
    states: Sequence[CaseState] = (),
    after: uuid.UUID | None = None,
    limit: int = 100,
) -> tuple[list[Case], uuid.UUID | None]:
    """A page of the cases the member may see, oldest first, and the cursor of the next page.
    A member sees the cases assigned to them; the chair sees every case of the unit, including
    those waiting in its queue; an appellate authority, the unit's cases under appeal.
    `escalated` keeps only the cases escalated (or not) in their current stage; `states`, only
    those in these states; `after`, those after that case (the previous page's cursor)."""
    query = select(Case).order_by(Case.opened_at, Case.id)
    if member.role == "chair":
        query = query.where(Case.unit_id == member.unit_id)
    elif member.role == "appellate_authority":
        query = query.where(Case.unit_id == member.unit_id, Case.state.in_(UNDER_APPEAL))
    else:
        query = query.where(Case.assignee_id == member.id)
    if escalated is not None:
        query = query.where(ESCALATED_IN_ITS_STAGE if escalated else ~ESCALATED_IN_ITS_STAGE)
    if states:
        query = query.where(Case.state.in_([str(state) for state in states]))
    if after is not None:
        position = (
            await session.execute(select(Case.opened_at, Case.id).where(Case.id == after))
        ).one_or_none()
        if position is None:
            detail = f"No case {after} to continue after: pass the `next_cursor` of a page."
            raise InvalidInput(detail, errors=[FieldProblem(field="after", message=detail)])
        query = query.where(tuple_(Case.opened_at, Case.id) > tuple_(*position))
    cases = list((await session.scalars(query.limit(limit + 1))).all())
    if len(cases) > limit:
        return cases[:limit], cases[limit - 1].id
    return cases, None


# A case is escalated while it has an escalation for the state it is in.
ESCALATED_IN_ITS_STAGE = exists().where(
    CaseEscalation.case_id == Case.id, CaseEscalation.state == Case.state
)


async def current_escalations(
    session: AsyncSession, *, cases: Iterable[Case]
) -> dict[uuid.UUID, datetime]:
    """When each of these cases was escalated in its current stage (absent: not escalated)."""
    # The join reads the cases' states from the database: write any move not yet written.
    await session.flush()
    rows = await session.execute(
        select(CaseEscalation.case_id, CaseEscalation.escalated_at)
        .join(Case, Case.id == CaseEscalation.case_id)
        .where(
            CaseEscalation.case_id.in_([case.id for case in cases]),
            CaseEscalation.state == Case.state,
        )
    )
    return dict(rows.all())


async def case_for_member(session: AsyncSession, *, case_id: uuid.UUID, member: Member) -> Case:
    """The case if this member may see it; 404 otherwise, whether or not it exists. An
    appellate authority sees the unit's cases under appeal: the record it decides on."""
    visible = or_(
        Case.assignee_id == member.id,
        (Case.unit_id == member.unit_id) if member.role == "chair" else false(),
        and_(Case.unit_id == member.unit_id, Case.state.in_(UNDER_APPEAL))
        if member.role == "appellate_authority"
        else false(),
    )
    case = await session.scalar(select(Case).where(Case.id == case_id, visible).with_for_update())
    if case is None:
        raise CaseNotFound(f"No case {case_id} for this member.")
    return case


async def mark_recorded(
    session: AsyncSession, *, record: RecordCreated, correlation_id: str
) -> None:
    """Registry has recorded the case's determination, or its appeal's outcome: the case moves
    to 'recorded', and closes at once where nothing more can follow (closing.py)."""
    case = await session.scalar(select(Case).where(Case.id == record.case_id).with_for_update())
    if case is None:
        return
    if case.state == CaseState.DETERMINED:
        await move_case(
            session,
            case=case,
            target=CaseState.RECORDED,
            actor=None,
            reason=f"registry record {record.record_id} created",
            at=record.recorded_at,
        )
        determination = await session.get(Determination, case.id)
        if closes_when_recorded(case, determination):
            await close_case(
                session,
                case=case,
                reason="recorded; no appeal lies against it",
                at=max(utcnow(), record.recorded_at),
                correlation_id=correlation_id,
            )
    elif case.state == CaseState.APPEAL_DECIDED and record.record_kind == APPEAL_OUTCOME_RECORD:
        await close_case(
            session,
            case=case,
            reason=f"the appeal's outcome recorded by registry (record {record.record_id})",
            at=max(utcnow(), record.recorded_at),
            correlation_id=correlation_id,
        )
    await session.flush()


@dataclass(frozen=True)
class CaseRecord:
    """What a case's page shows besides the case itself."""

    events: list[CaseEvent]
    escalated_at: datetime | None
    notice: Notice | None
    hearing: Hearing | None
    determination: Determination | None
    evidence: list[CaseEvidence]
    charges: list[Charge]
    charge_findings: list[ChargeFinding]


async def case_record(session: AsyncSession, *, case: Case) -> CaseRecord:
    events = await case_history(session, case=case)
    return CaseRecord(
        events=events,
        escalated_at=(await current_escalations(session, cases=[case])).get(case.id),
        notice=await session.get(Notice, case.id),
        hearing=await session.get(Hearing, case.id),
        determination=await session.get(Determination, case.id),
        evidence=await evidence_of(session, case=case),
        charges=await charges_of(session, case=case),
        charge_findings=await findings_of(session, case=case),
    )
