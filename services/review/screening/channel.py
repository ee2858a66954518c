"""The way out of the confidential channel. A case the protected-disclosure screen routed there
is off the normal track (no notice, no finding), and only the chair of its unit closes it, with
a recorded outcome and reasons:

- `referred` to the competent protected-disclosure authority, with that authority's name and
  the referral's reference: the case closes here; the disclosure is that authority's to handle;
- `returned` to the normal track after the chair re-screens it (the four questions answered
  afresh, each with a note): the case is back in review with its member, and a notice may be
  served as after a screen with the outcome 'proceed';
- `dismissed`: the case ends with the reasons.

Every step is on the case's history. The submitter's portal sees only what is true of any case
(closed, or dismissed); never that there was a channel, an authority or a reference. Least
knowledge (DESIGN.md): the reporter's identity stays in intake throughout.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.assignment_service import lock_roster
from services.review.cases.errors import NotChair
from services.review.cases.history import announce_status, move_case, note_on_case
from services.review.cases.lifecycle import CaseState, check_transition
from services.review.cases.models import Case
from services.review.cases.procedure import require_due_process_case
from services.review.screening.models import SCREEN_QUESTIONS, ConfidentialOutcome
from services.review.screening.schemas import ConfidentialOutcomeCreate
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput

# The fields each outcome takes besides `outcome` and `reasons`.
OUTCOME_FIELDS: dict[str, frozenset[str]] = {
    "referred": frozenset({"authority", "reference"}),
    "returned": frozenset({"rescreen"}),
    "dismissed": frozenset(),
}
OUTCOME_TARGETS: dict[str, CaseState] = {
    "referred": CaseState.CLOSED,
    "returned": CaseState.IN_REVIEW,
    "dismissed": CaseState.DISMISSED,
}


def outcome_problems(outcome_in: ConfidentialOutcomeCreate) -> list[FieldProblem]:
    wanted = OUTCOME_FIELDS[outcome_in.outcome]
    problems = [
        FieldProblem(field=name, message=f"required for the outcome '{outcome_in.outcome}'")
        for name in sorted(wanted)
        if getattr(outcome_in, name) is None
    ]
    problems += [
        FieldProblem(field=name, message=f"not part of the outcome '{outcome_in.outcome}'")
        for name in sorted(set().union(*OUTCOME_FIELDS.values()) - wanted)
        if getattr(outcome_in, name) is not None
    ]
    return problems


def outcome_on_record(outcome_in: ConfidentialOutcomeCreate) -> str:
    if outcome_in.outcome == "referred":
        return (
            f"out of the confidential channel: referred to the competent protected-disclosure "
            f"authority ({outcome_in.authority}, reference {outcome_in.reference}): "
            f"{outcome_in.reasons}"
        )
    if outcome_in.outcome == "returned" and outcome_in.rescreen is not None:
        answers = "; ".join(
            f"{question} {'yes' if getattr(outcome_in.rescreen, name).answer else 'no'} "
            f"({getattr(outcome_in.rescreen, name).note})"
            for name, question in SCREEN_QUESTIONS.items()
        )
        return (
            f"out of the confidential channel: returned to the normal track after the chair's "
            f"re-screening: {answers}; reasons: {outcome_in.reasons}"
        )
    return f"out of the confidential channel: dismissed: {outcome_in.reasons}"


async def close_confidential_channel(
    session: AsyncSession,
    *,
    case: Case,
    chair: Member,
    outcome_in: ConfidentialOutcomeCreate,
    settings: ReviewSettings,
    correlation_id: str,
) -> ConfidentialOutcome:
    """Take the case out of the confidential channel with the chair's outcome; refused with 403
    for anyone but the chair of its unit, 409 naming the gate unless the case is in the
    channel, and 422 naming the field when the outcome lacks what it needs."""
    require_due_process_case(case)
    if chair.role != "chair" or chair.unit_id != case.unit_id:
        raise NotChair("Only the chair of this case's unit closes its confidential channel.")
    target = OUTCOME_TARGETS[outcome_in.outcome]
    check_transition(
        CaseState(case.state), target, kind=case.kind, leaving_confidential_channel=True
    )
    problems = outcome_problems(outcome_in)
    if problems:
        raise InvalidInput(
            "Each outcome of the confidential channel records what it rests on.", errors=problems
        )
    now = utcnow()
    outcome = ConfidentialOutcome(
        case_id=case.id,
        outcome=outcome_in.outcome,
        authority=outcome_in.authority,
        reference=outcome_in.reference,
        reasons=outcome_in.reasons,
        rescreen=outcome_in.rescreen.model_dump() if outcome_in.rescreen else None,
        decided_by=chair.id,
        decided_at=now,
    )
    session.add(outcome)
    await move_case(
        session,
        case=case,
        target=target,
        actor=chair,
        reason=outcome_on_record(outcome_in),
        at=now,
        leaving_confidential_channel=True,
    )
    if target == CaseState.IN_REVIEW:
        await back_with_a_member_who_may_hold_it(session, case=case, chair=chair, settings=settings)
    # What the portal sees is what is true of any case, with no word of the channel: a referred
    # case is closed here, a dismissed one dismissed; a returned one is with its member again,
    # as the portal last saw it (the channel was never announced).
    if target == CaseState.CLOSED:
        await announce_status(session, case=case, status="closed", correlation_id=correlation_id)
    elif target == CaseState.DISMISSED:
        await announce_status(session, case=case, status="dismissed", correlation_id=correlation_id)
    await session.flush()
    return outcome


async def back_with_a_member_who_may_hold_it(
    session: AsyncSession, *, case: Case, chair: Member, settings: ReviewSettings
) -> None:
    """A returned case goes back to its member; one who may no longer hold it (deactivated or
    on leave while the case was in the channel, where it was not counted as theirs) hands it
    to a colleague by the load rule, or to the unit's queue when nobody is eligible."""
    holder = await session.get(Member, case.assignee_id) if case.assignee_id else None
    if holder is not None and holder.active and not holder.on_leave:
        return
    if case.unit_id is None:
        return
    roster = await lock_roster(session, unit_id=case.unit_id)
    chains = await roster.chains_of_command(session, cases=[case])
    successor = roster.choose(case, settings=settings, earlier_deciders=(), chains=chains)
    now = utcnow()
    roster.hand(case=case, member=successor, at=now)
    note_on_case(
        session,
        case=case,
        actor=chair,
        reason=(
            f"returned from the confidential channel to member {successor.id} by the load "
            "rule: its member may no longer hold it"
            if successor is not None
            else "returned from the confidential channel to the unit's queue: its member may "
            "no longer hold it and no member is eligible"
        ),
        at=now,
    )
