"""Appeals against a recorded violation: the unit records the employee's appeal (within the
window), and an appellate authority of the unit decides it. The decision goes to registry,
whose new record supersedes (or, upheld, is linked to) the violation.

Separation of duties: the member who recorded the finding (the investigator), the chair who
countersigned it and the appeal's decider are three different people. An earlier decider who
tries to decide the appeal is refused with 403 naming that rule, before the role is looked at,
so the refusal says why even where the role would also refuse.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.appeals.errors import (
    AppealGateNotMet,
    AppealSeparationOfDuties,
    NotAppealClerk,
    NotAppellateAuthority,
)
from services.review.appeals.models import Appeal
from services.review.appeals.schemas import AppealCreate, AppealDecisionCreate
from services.review.cases.errors import CaseNotFound
from services.review.cases.history import announce_status, move_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case, Determination
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import AppealDecided
from shared.outbox import stage_message

APPEAL_CLERK_ROLES = frozenset({"secretary", "chair"})
# A date filed may be a day ahead of UTC where the unit sits (UTC+5 in the day's last hours).
FILED_ON_LEEWAY = timedelta(days=1)


async def case_in_members_unit(
    session: AsyncSession, *, case_id: uuid.UUID, member: Member
) -> Case:
    """The case, locked, if it belongs to the member's unit; 404 otherwise, whether or not it
    exists. Appeals are the unit's business, not only the assignee's."""
    case = await session.scalar(
        select(Case).where(Case.id == case_id, Case.unit_id == member.unit_id).with_for_update()
    )
    if case is None:
        raise CaseNotFound(f"No case {case_id} for this member.")
    return case


async def appeal_of(session: AsyncSession, *, case: Case) -> Appeal | None:
    return await session.get(Appeal, case.id)


def final_on(determination: Determination) -> date:
    """The day a violation finding became final: the chair's countersignature."""
    assert determination.countersigned_at is not None
    return determination.countersigned_at.date()


def window_last_day(determination: Determination, *, appeal_window_days: int) -> date:
    return final_on(determination) + timedelta(days=appeal_window_days)


async def recorded_violation(session: AsyncSession, *, case: Case) -> Determination:
    """The case's final violation finding, recorded by registry: what an appeal lies against."""
    determination = await session.get(Determination, case.id)
    if (
        determination is None
        or determination.finding != "violation"
        or determination.countersigned_at is None
    ):
        raise AppealGateNotMet(
            "Only a final violation finding can be appealed: this case has none."
        )
    if case.state != CaseState.RECORDED:
        raise AppealGateNotMet(
            f"A case in state '{case.state}' cannot be appealed: the violation must have been "
            "recorded by the registry, and not already appealed."
        )
    return determination


async def file_appeal(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    appeal_in: AppealCreate,
    appeal_window_days: int,
    correlation_id: str,
) -> Appeal:
    """Record the employee's appeal. Refused (409 naming the gate) unless the case holds a
    recorded violation not yet appealed and the appeal was filed within the window."""
    if member.role not in APPEAL_CLERK_ROLES:
        raise NotAppealClerk("Only the unit's secretary or chair may record an appeal.")
    determination = await recorded_violation(session, case=case)
    now = utcnow()
    if appeal_in.filed_on > now.date() + FILED_ON_LEEWAY:
        detail = f"The appeal is dated {appeal_in.filed_on}, in the future."
        raise InvalidInput(detail, errors=[FieldProblem(field="filed_on", message=detail)])
    if appeal_in.filed_on < final_on(determination):
        detail = (
            f"The appeal is dated {appeal_in.filed_on}, before the finding became final on "
            f"{final_on(determination)}."
        )
        raise InvalidInput(detail, errors=[FieldProblem(field="filed_on", message=detail)])
    last_day = window_last_day(determination, appeal_window_days=appeal_window_days)
    if appeal_in.filed_on > last_day:
        raise AppealGateNotMet(
            f"The appeal window closed on {last_day}: {appeal_window_days} calendar days from "
            f"{final_on(determination)}, when the finding became final; the appeal was filed "
            f"on {appeal_in.filed_on}."
        )
    await move_case(
        session,
        case=case,
        target=CaseState.APPEALED,
        actor=member,
        reason=f"appeal filed on {appeal_in.filed_on}",
        at=now,
    )
    appeal = Appeal(
        case_id=case.id,
        grounds=appeal_in.grounds,
        filed_on=appeal_in.filed_on,
        recorded_by=member.id,
        recorded_at=now,
    )
    session.add(appeal)
    await announce_status(session, case=case, status="appealed", correlation_id=correlation_id)
    await session.flush()
    return appeal


def decision_problems(decision_in: AppealDecisionCreate, *, case: Case) -> list[FieldProblem]:
    """A modified finding says what it now is; the other outcomes restate nothing."""
    restated = {"rules_cited": decision_in.rules_cited, "finding": decision_in.finding}
    if decision_in.outcome != "modified":
        return [
            FieldProblem(
                field=name, message=f"only for a modified finding, not {decision_in.outcome}"
            )
            for name, value in restated.items()
            if value is not None
        ]
    if decision_in.rules_cited is None and decision_in.finding is None:
        return [
            FieldProblem(field=name, message="a modified finding needs rules_cited or finding")
            for name in restated
        ]
    return [
        FieldProblem(field=f"rules_cited.{index}", message=f"'{code}' was not alleged in this case")
        for index, code in enumerate(decision_in.rules_cited or ())
        if code not in case.rules_alleged
    ]


def refuse_earlier_deciders(determination: Determination, *, member: Member) -> None:
    if member.id == determination.recorded_by:
        raise AppealSeparationOfDuties(
            "Separation of duties: the investigator who recorded the finding may not decide "
            "its appeal."
        )
    if member.id == determination.countersigned_by:
        raise AppealSeparationOfDuties(
            "Separation of duties: the chair who countersigned the finding may not decide "
            "its appeal."
        )


async def decide_appeal(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    decision_in: AppealDecisionCreate,
    correlation_id: str,
) -> Appeal:
    """The appellate authority's decision, sent to registry; the portal sees 'appeal_decided'."""
    determination = await session.get(Determination, case.id)
    if determination is not None:
        refuse_earlier_deciders(determination, member=member)
    if member.role != "appellate_authority":
        raise NotAppellateAuthority("Only an appellate authority of this unit may decide it.")
    appeal = await session.get(Appeal, case.id, with_for_update=True)
    if appeal is None or determination is None or case.state != CaseState.APPEALED:
        raise AppealGateNotMet(
            f"A case in state '{case.state}' has no appeal awaiting a decision: an appeal must "
            "have been filed and not yet decided."
        )
    problems = decision_problems(decision_in, case=case)
    if problems:
        raise InvalidInput("The decision's fields do not fit its outcome.", errors=problems)
    now = utcnow()
    await move_case(
        session,
        case=case,
        target=CaseState.APPEAL_DECIDED,
        actor=member,
        reason=f"appeal decided: {decision_in.outcome}",
        at=now,
    )
    appeal.outcome = decision_in.outcome
    appeal.decision_reasons = decision_in.reasons
    appeal.modified_rules_cited = (
        list(dict.fromkeys(decision_in.rules_cited)) if decision_in.rules_cited else None
    )
    appeal.modified_finding = decision_in.finding
    appeal.decided_by = member.id
    appeal.decided_at = now
    await stage_message(
        session,
        AppealDecided(
            case_id=case.id,
            submission_id=case.submission_id,
            outcome=decision_in.outcome,
            reasons=decision_in.reasons,
            modified_rules_cited=appeal.modified_rules_cited,
            modified_finding=appeal.modified_finding,
            appeal_filed_on=appeal.filed_on,
            decided_by=member.id,
            decided_at=now,
            effective_on=now.date(),
        ),
        producer="review",
        correlation_id=correlation_id,
    )
    await announce_status(
        session, case=case, status="appeal_decided", correlation_id=correlation_id
    )
    await session.flush()
    return appeal
