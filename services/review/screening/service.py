"""The protected-disclosure screen: before a charge goes forward, the assigned member answers
whether the post was whistleblowing on wrongdoing, in the public interest, said in a private
capacity, or about information already public, each with a note. The outcome lets the case go
on (a notice may then be served), dismisses it with reasons, or routes it to a confidential
channel the chair sees, off the normal track. The answers are written on the case's history.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases import procedure
from services.review.cases.history import move_case, note_on_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case
from services.review.cases.schemas import DismissalCreate
from services.review.screening.errors import ScreenNotOpen
from services.review.screening.models import SCREEN_QUESTIONS, DisclosureScreen
from services.review.screening.schemas import ScreenAnswer, ScreenCreate, ScreenRead
from services.review.triage.models import PermissionCheck
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput

# The states in which a case may be screened: assigned, or in review before any notice.
SCREENABLE = frozenset({CaseState.ASSIGNED, CaseState.IN_REVIEW})


def answers_on_record(screen_in: ScreenCreate) -> str:
    answers = "; ".join(
        f"{question} {'yes' if getattr(screen_in, name).answer else 'no'} "
        f"({getattr(screen_in, name).note})"
        for name, question in SCREEN_QUESTIONS.items()
    )
    return f"protected-disclosure screen: {answers}; outcome: {screen_in.outcome}" + (
        f" ({screen_in.reasons})" if screen_in.reasons else ""
    )


async def screen_case(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    screen_in: ScreenCreate,
    correlation_id: str,
) -> DisclosureScreen:
    procedure.require_due_process_case(case)
    procedure.require_assignee(case, member)
    if case.state not in SCREENABLE:
        raise ScreenNotOpen(
            f"A case in state '{case.state}' cannot be screened: the screen comes before any "
            "notice, once, while the case is assigned or in review."
        )
    if await session.get(DisclosureScreen, case.id) is not None:
        raise ScreenNotOpen("This case was already screened; the answers stand on its record.")
    check = await session.get(PermissionCheck, case.id)
    if check is not None and check.status == "pending":
        raise ScreenNotOpen(
            "The permission check at triage has not answered yet: see what registry says "
            "before acting on the case (it answers within seconds)."
        )
    if screen_in.outcome != "proceed" and screen_in.reasons is None:
        raise InvalidInput(
            "Reasons are required to dismiss a case or route it to a confidential channel.",
            errors=[FieldProblem(field="reasons", message=f"required for {screen_in.outcome}")],
        )
    await procedure.begin_review(session, case=case, member=member)
    now = utcnow()
    screen = DisclosureScreen(
        case_id=case.id,
        **{
            field: value
            for name in SCREEN_QUESTIONS
            for field, value in (
                (name, getattr(screen_in, name).answer),
                (f"{name}_note", getattr(screen_in, name).note),
            )
        },
        outcome=screen_in.outcome,
        reasons=screen_in.reasons,
        screened_by=member.id,
        screened_at=now,
    )
    session.add(screen)
    note_on_case(session, case=case, actor=member, reason=answers_on_record(screen_in), at=now)
    if screen_in.outcome == "dismiss":
        await procedure.dismiss_case(
            session,
            case=case,
            member=member,
            dismissal_in=DismissalCreate(
                reasons=f"dismissed at the protected-disclosure screen: {screen_in.reasons}"
            ),
            correlation_id=correlation_id,
        )
    elif screen_in.outcome == "confidential_channel":
        await move_case(
            session,
            case=case,
            target=CaseState.CONFIDENTIAL_CHANNEL,
            actor=member,
            reason=f"routed to a confidential channel for the chair: {screen_in.reasons}",
        )
    await session.flush()
    return screen


def screen_read(screen: DisclosureScreen) -> ScreenRead:
    answers = {
        name: ScreenAnswer(answer=getattr(screen, name), note=getattr(screen, f"{name}_note"))
        for name in SCREEN_QUESTIONS
    }
    return ScreenRead(
        **answers,
        outcome=screen.outcome,
        reasons=screen.reasons,
        screened_by=screen.screened_by,
        screened_at=screen.screened_at,
    )
