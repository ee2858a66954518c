"""The protected-disclosure screen of a case: the assigned member takes it; the case's readers
read it."""

from __future__ import annotations

from fastapi import APIRouter

from services.review.cases.errors import CaseNotFound, NotAssignee, NotChair
from services.review.cases.lifecycle import IllegalTransition
from services.review.cases.router import MemberCase, Settings, read_case
from services.review.cases.schemas import CaseRead
from services.review.screening import channel, service
from services.review.screening.errors import ScreenNotFound, ScreenNotOpen
from services.review.screening.models import DisclosureScreen
from services.review.screening.schemas import ConfidentialOutcomeCreate, ScreenCreate, ScreenRead
from services.review.units.auth import CurrentMember
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.post(
    "/{case_id}/screen",
    response_model=CaseRead,
    responses=responses_for(
        Unauthenticated, NotAssignee, CaseNotFound, ScreenNotOpen, IllegalTransition, InvalidInput
    ),
)
async def screen_case(
    screen_in: ScreenCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """The protected-disclosure screen, before any charge goes forward: answer each question
    (whistleblowing on wrongdoing? in the public interest? said in a private capacity? about
    information already public?) with a note, and choose the outcome: `proceed` (a notice may
    then be served), `dismiss` (with `reasons`: the case ends) or `confidential_channel` (with
    `reasons`: off the normal track, for the chair). Once per case, after the permission check
    at triage has answered and before any notice; the answers stay on the case's history."""
    await service.screen_case(
        session, case=case, member=member, screen_in=screen_in, correlation_id=correlation_id
    )
    return await read_case(session, case)


@router.get(
    "/{case_id}/screen",
    response_model=ScreenRead,
    responses=responses_for(Unauthenticated, CaseNotFound, ScreenNotFound),
)
async def read_screen(case: MemberCase, session: DbSession) -> ScreenRead:
    """The case's protected-disclosure screen: each answer with its note, and the outcome."""
    screen = await session.get(DisclosureScreen, case.id)
    if screen is None:
        raise ScreenNotFound(f"Case {case.id} has not been screened yet.")
    return service.screen_read(screen)


@router.post(
    "/{case_id}/confidential-channel/outcome",
    response_model=CaseRead,
    responses=responses_for(
        Unauthenticated, NotChair, CaseNotFound, IllegalTransition, InvalidInput
    ),
)
async def close_confidential_channel(
    outcome_in: ConfidentialOutcomeCreate,
    case: MemberCase,
    member: CurrentMember,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
) -> CaseRead:
    """The chair of the case's unit takes a case out of the confidential channel, with
    `reasons` and one of three outcomes: `referred` to the competent protected-disclosure
    authority (`authority`, `reference`; the case closes), `returned` to the normal track after
    re-screening (`rescreen`: the four questions answered afresh, each with a note; the case is
    back in review with its member, or a colleague if that member may no longer hold it, and
    a notice may follow), or `dismissed`. Only from the
    channel (409 naming the gate otherwise); the portal sees only closed or dismissed."""
    await channel.close_confidential_channel(
        session,
        case=case,
        chair=member,
        outcome_in=outcome_in,
        settings=settings,
        correlation_id=correlation_id,
    )
    return await read_case(session, case)
