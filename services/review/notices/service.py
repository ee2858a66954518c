"""The employee's side of a notice, in review.

A served notice goes to intake for the department's portal, which acts on the employee's behalf
(notice.served, carrying the notice as the case page shows it). What the portal sends back
arrives as messages: the receipt (served with receipt) and the employee's reply or request for
more time. A reply is the procedure's reply step, recorded once and attributed to "the employee
via portal"; one after the window closed is refused, and the portal is told why. An extension
of the reply window, asked for by the member or the employee, is decided by the unit's chair
alone; an approved one moves the reply date, which is what the lapse sweep reads, and the sweep
leaves a window alone while an extension asked for in time awaits the chair.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.deadlines import add_working_days
from services.review.cases.errors import NotChair
from services.review.cases.history import note_on_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case, Notice, Reply
from services.review.cases.procedure import receive_reply, require_due_process_case
from services.review.notices.errors import ExtensionNotFound, ExtensionNotOpen
from services.review.notices.models import (
    EMPLOYEE_VIA_PORTAL,
    NoticeDelivery,
    ReplyDetail,
    ReplyExtension,
)
from services.review.notices.schemas import (
    DueProcessRead,
    ExtensionCreate,
    ExtensionDecisionCreate,
    ExtensionRead,
    PermissionCheckRead,
    ReplyRead,
)
from services.review.screening.models import ConfidentialOutcome, DisclosureScreen
from services.review.screening.schemas import ConfidentialOutcomeRead
from services.review.screening.service import screen_read
from services.review.settings import ReviewSettings
from services.review.triage.models import PermissionCheck
from services.review.units.models import Member
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import (
    NoticeEvent,
    NoticeReceiptAcknowledged,
    NoticeReplySubmitted,
    NoticeServed,
    NoticeUpdated,
)
from shared.outbox import stage_message


async def deliver_notice(
    session: AsyncSession,
    *,
    case: Case,
    notice: BaseModel,
    reply_due_on: date,
    correlation_id: str,
) -> None:
    """Send the served notice, as the case page shows it, to the department's portal."""
    now = utcnow()
    session.add(NoticeDelivery(case_id=case.id, sent_at=now))
    await stage_message(
        session,
        NoticeServed(
            case_id=case.id,
            submission_id=case.submission_id,
            department=case.department,
            employee_ref=case.subject_employee_ref,
            employee_name=case.subject_name,
            reply_due_on=reply_due_on,
            served_at=now,
            notice=notice.model_dump(mode="json"),
        ),
        producer="review",
        correlation_id=correlation_id,
    )


async def tell_portal(
    session: AsyncSession,
    *,
    case: Case,
    event: NoticeEvent,
    reply_due_on: date,
    detail: str,
    reply_id: uuid.UUID | None,
    correlation_id: str,
) -> None:
    """What the employee's portal should see on the notice, if the notice went to one."""
    if await session.get(NoticeDelivery, case.id) is None:
        return
    await stage_message(
        session,
        NoticeUpdated(
            case_id=case.id,
            event=event,
            reply_due_on=reply_due_on,
            detail=detail,
            reply_id=reply_id,
            occurred_at=utcnow(),
        ),
        producer="review",
        correlation_id=correlation_id,
    )


# --- extensions -----------------------------------------------------------------------------


def window_closed(case: Case, notice: Notice, *, on: date) -> str | None:
    """Why the reply window is closed on `on`, or None while it is open."""
    if case.state != CaseState.NOTICE_ISSUED:
        return f"the case is no longer awaiting a reply (it is {case.state})"
    if on > notice.reply_due_on:
        return f"the reply window closed on {notice.reply_due_on}"
    return None


async def pending_extension(session: AsyncSession, *, case: Case) -> ReplyExtension | None:
    return await session.scalar(
        select(ReplyExtension).where(
            ReplyExtension.case_id == case.id, ReplyExtension.status == "requested"
        )
    )


async def request_extension(
    session: AsyncSession,
    *,
    case: Case,
    member: Member | None,
    extension_in: ExtensionCreate,
    settings: ReviewSettings,
    on: date,
    portal_reply_id: uuid.UUID | None = None,
) -> ReplyExtension:
    """Ask for more time to reply, while the window is open and no other request waits."""
    require_due_process_case(case)
    notice = await session.get(Notice, case.id)
    if notice is None:
        raise ExtensionNotOpen("There is no notice on this case, so no reply window to extend.")
    closed = window_closed(case, notice, on=on)
    if closed is not None:
        raise ExtensionNotOpen(f"The reply window cannot be extended: {closed}.")
    if await pending_extension(session, case=case) is not None:
        raise ExtensionNotOpen(
            "An extension request already awaits the chair's decision on this case."
        )
    if extension_in.working_days > settings.max_extension_working_days:
        raise InvalidInput(
            "An extension asks for too many working days.",
            errors=[
                FieldProblem(
                    field="working_days",
                    message=f"at most {settings.max_extension_working_days}",
                )
            ],
        )
    now = utcnow()
    extension = ReplyExtension(
        id=uuid.uuid4(),
        case_id=case.id,
        requested_via="member" if member else "portal",
        requested_by=member.id if member else None,
        portal_reply_id=portal_reply_id,
        reason=extension_in.reason,
        working_days=extension_in.working_days,
        requested_at=now,
        status="requested",
        due_before=notice.reply_due_on,
    )
    session.add(extension)
    who = "the assigned member" if member else EMPLOYEE_VIA_PORTAL
    note_on_case(
        session,
        case=case,
        actor=member,
        reason=(
            f"extension of the reply window asked for by {who}: "
            f"{extension_in.working_days} working day(s): {extension_in.reason}"
        ),
        at=now,
    )
    await session.flush()
    return extension


async def decide_extension(
    session: AsyncSession,
    *,
    case: Case,
    chair: Member,
    extension_id: uuid.UUID,
    decision_in: ExtensionDecisionCreate,
    settings: ReviewSettings,
    correlation_id: str,
) -> ReplyExtension:
    """The chair approves (the reply date moves by the working days asked, counted from the
    later of the current reply date and today) or refuses, with a reason."""
    if chair.role != "chair" or chair.unit_id != case.unit_id:
        raise NotChair(
            "Only the chair of this case's unit may approve or refuse an extension of the reply "
            "window (an extension needs the chair's approval)."
        )
    extension = await session.scalar(
        select(ReplyExtension)
        .where(ReplyExtension.id == extension_id, ReplyExtension.case_id == case.id)
        .with_for_update()
    )
    if extension is None:
        raise ExtensionNotFound(f"No extension request {extension_id} on this case.")
    if extension.status != "requested":
        raise ExtensionNotOpen(f"This extension request was already {extension.status}.")
    notice = await session.get(Notice, case.id, with_for_update=True)
    now = utcnow()
    if decision_in.decision == "approved":
        if notice is None or case.state != CaseState.NOTICE_ISSUED:
            raise ExtensionNotOpen(
                f"The reply window is no longer open (the case is {case.state}): there is "
                "nothing to extend."
            )
        start = max(notice.reply_due_on, now.date())
        extension.due_after = add_working_days(
            start, extension.working_days, holidays=settings.public_holidays
        )
        notice.reply_due_on = extension.due_after
        reason = (
            f"extension approved by the chair: reply now due on {extension.due_after} "
            f"(was {extension.due_before}): {decision_in.reason}"
        )
    else:
        reason = f"extension refused by the chair: {decision_in.reason}"
    extension.status = decision_in.decision
    extension.decided_by = chair.id
    extension.decided_at = now
    extension.decision_reason = decision_in.reason
    note_on_case(session, case=case, actor=chair, reason=reason, at=now)
    await tell_portal(
        session,
        case=case,
        event="extension_approved" if decision_in.decision == "approved" else "extension_refused",
        reply_due_on=notice.reply_due_on if notice else extension.due_before,
        detail=reason,
        reply_id=extension.portal_reply_id,
        correlation_id=correlation_id,
    )
    await session.flush()
    return extension


async def extensions_of(session: AsyncSession, *, case: Case) -> list[ReplyExtension]:
    return list(
        (
            await session.scalars(
                select(ReplyExtension)
                .where(ReplyExtension.case_id == case.id)
                .order_by(ReplyExtension.requested_at, ReplyExtension.id)
            )
        ).all()
    )


# --- what the portal sends back -------------------------------------------------------------


async def record_receipt(session: AsyncSession, *, receipt: NoticeReceiptAcknowledged) -> None:
    """Served with receipt: the first acknowledgement is kept and written on the history."""
    delivery = await session.scalar(
        select(NoticeDelivery).where(NoticeDelivery.case_id == receipt.case_id).with_for_update()
    )
    if delivery is None or delivery.receipt_acknowledged_at is not None:
        return
    case = await session.get(Case, receipt.case_id)
    if case is None:
        return
    delivery.receipt_acknowledged_at = receipt.acknowledged_at
    delivery.portal_notice_id = receipt.notice_id
    note_on_case(
        session,
        case=case,
        actor=None,
        reason=(
            f"notice receipt acknowledged by {EMPLOYEE_VIA_PORTAL} at "
            f"{receipt.acknowledged_at.isoformat()}"
        ),
    )
    await session.flush()


async def take_portal_reply(
    session: AsyncSession,
    *,
    submitted: NoticeReplySubmitted,
    settings: ReviewSettings,
    correlation_id: str,
) -> None:
    """The employee's reply, or request for more time, through the portal: recorded once, or
    refused with the reason the portal then shows."""
    case = await session.scalar(select(Case).where(Case.id == submitted.case_id).with_for_update())
    notice = await session.get(Notice, submitted.case_id) if case else None
    if case is None or notice is None:
        return
    submitted_on = submitted.submitted_at.date()
    if submitted.statement is None:
        await _take_extension_request(
            session,
            case=case,
            notice=notice,
            submitted=submitted,
            settings=settings,
            on=submitted_on,
            correlation_id=correlation_id,
        )
        return
    pending = await pending_extension(session, case=case)
    closed = window_closed(case, notice, on=submitted_on)
    # A window held open by an extension asked for in time still takes the reply.
    if closed is not None and not (pending is not None and case.state == CaseState.NOTICE_ISSUED):
        detail = f"reply refused: {closed}"
        note_on_case(
            session,
            case=case,
            actor=None,
            reason=f"a reply from {EMPLOYEE_VIA_PORTAL} was refused: {closed}",
        )
        await tell_portal(
            session,
            case=case,
            event="reply_refused",
            reply_due_on=notice.reply_due_on,
            detail=detail,
            reply_id=submitted.reply_id,
            correlation_id=correlation_id,
        )
        return
    representative = submitted.representative
    await receive_reply(
        session,
        case=case,
        actor=None,
        statement=submitted.statement,
        received_at=submitted.submitted_at,
        reason=(
            f"employee's reply received from {EMPLOYEE_VIA_PORTAL}"
            + (f", represented by {representative.name}" if representative else "")
            + (
                f", with {len(submitted.attachments)} attachment(s)"
                if submitted.attachments
                else ""
            )
        ),
        correlation_id=correlation_id,
    )
    session.add(
        ReplyDetail(
            case_id=case.id,
            submitted_via="portal",
            portal_reply_id=submitted.reply_id,
            representative=representative.model_dump(mode="json") if representative else None,
            attachments=[item.model_dump(mode="json") for item in submitted.attachments],
            hearing_requested=submitted.hearing_requested,
        )
    )
    if submitted.hearing_requested:
        note_on_case(
            session, case=case, actor=None, reason=f"{EMPLOYEE_VIA_PORTAL} asks for a hearing"
        )
    if pending is not None:
        pending.status = "withdrawn"
        pending.decided_at = utcnow()
        pending.decision_reason = "the employee replied before the chair decided"
    await tell_portal(
        session,
        case=case,
        event="reply_recorded",
        reply_due_on=notice.reply_due_on,
        detail="reply received by the monitoring unit",
        reply_id=submitted.reply_id,
        correlation_id=correlation_id,
    )
    await session.flush()


async def _take_extension_request(
    session: AsyncSession,
    *,
    case: Case,
    notice: Notice,
    submitted: NoticeReplySubmitted,
    settings: ReviewSettings,
    on: date,
    correlation_id: str,
) -> None:
    asked = submitted.extension
    if asked is None:
        return
    try:
        await request_extension(
            session,
            case=case,
            member=None,
            extension_in=ExtensionCreate(reason=asked.reason, working_days=asked.working_days),
            settings=settings,
            on=on,
            portal_reply_id=submitted.reply_id,
        )
    except (ExtensionNotOpen, InvalidInput) as exc:
        note_on_case(
            session,
            case=case,
            actor=None,
            reason=f"an extension asked for by {EMPLOYEE_VIA_PORTAL} was refused: {exc.detail}",
        )
        await tell_portal(
            session,
            case=case,
            event="extension_refused",
            reply_due_on=notice.reply_due_on,
            detail=exc.detail,
            reply_id=submitted.reply_id,
            correlation_id=correlation_id,
        )
        return
    await tell_portal(
        session,
        case=case,
        event="extension_requested",
        reply_due_on=notice.reply_due_on,
        detail=f"{asked.working_days} working day(s) asked for; awaiting the chair's decision",
        reply_id=submitted.reply_id,
        correlation_id=correlation_id,
    )


# --- the case page --------------------------------------------------------------------------


async def due_process_of(session: AsyncSession, *, case: Case) -> DueProcessRead:
    """Triage, the screen, the receipt, the reply with its extras, and the extensions."""
    check = await session.get(PermissionCheck, case.id)
    screen = await session.get(DisclosureScreen, case.id)
    channel = await session.get(ConfidentialOutcome, case.id)
    delivery = await session.get(NoticeDelivery, case.id)
    reply = await session.get(Reply, case.id)
    detail = await session.get(ReplyDetail, case.id) if reply else None
    return DueProcessRead(
        permission_check=PermissionCheckRead.model_validate(check) if check else None,
        disclosure_screen=screen_read(screen) if screen else None,
        confidential_outcome=(ConfidentialOutcomeRead.model_validate(channel) if channel else None),
        notice_receipt_acknowledged_at=delivery.receipt_acknowledged_at if delivery else None,
        reply=(
            ReplyRead(
                statement=reply.statement,
                received_at=reply.received_at,
                recorded_by=reply.recorded_by,
                submitted_by=EMPLOYEE_VIA_PORTAL
                if detail and detail.submitted_via == "portal"
                else "member",
                representative=detail.representative if detail else None,
                attachments=detail.attachments if detail else [],
                hearing_requested=detail.hearing_requested if detail else False,
            )
            if reply
            else None
        ),
        extensions=[
            ExtensionRead.model_validate(extension)
            for extension in await extensions_of(session, case=case)
        ],
    )
