"""Notices served on a department's employees, as intake keeps them for the department's portal.

review sends a served notice (notice.served) and what happens to it (notice.updated, and the
case's status for a lapsed window). The portal, acting for the employee, reads the notice,
acknowledges receipt, and replies or asks for more time; each answer is stored with the message
that carries it to review (notice.receipt_acknowledged, notice.reply_submitted) in one
transaction. review decides: a reply after the window closed is refused there, and the refusal
comes back into the notice's status. Only the employee's own department sees a notice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.clients.models import ClientCredential
from services.intake.evidence.custody import append_custody_line
from services.intake.evidence.models import EvidenceFile
from services.intake.evidence.service import client_actor
from services.intake.notices.errors import NoticeAnswered, NoticeNotFound
from services.intake.notices.models import (
    NoticeHistoryEvent,
    NoticeReply,
    PendingNoticeUpdate,
    ServedNotice,
)
from services.intake.notices.schemas import ReplyCreate
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput
from shared.messages import (
    CaseStatusChanged,
    ExtensionAsked,
    NoticeReceiptAcknowledged,
    NoticeReplySubmitted,
    NoticeServed,
    NoticeUpdated,
    ReplyAttachment,
    ReplyRepresentative,
)
from shared.outbox import stage_message

# A notice in these statuses takes no further answer.
ANSWERED = frozenset({"reply_submitted", "reply_received"})


def note(
    session: AsyncSession,
    notice: ServedNotice,
    *,
    event: str,
    detail: str,
    at: datetime | None = None,
) -> None:
    now = at or utcnow()
    session.add(
        NoticeHistoryEvent(notice_id=notice.id, event=event, detail=detail, occurred_at=now)
    )
    notice.updated_at = now


# --- from review ----------------------------------------------------------------------------


async def serialise_notice(session: AsyncSession, *, case_id: uuid.UUID) -> None:
    """Hold, until the transaction ends, the lock of one case's notice: a notice and an update
    of it handled at once by two workers never miss each other."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"intake-notice:{case_id}", 0)))
    )


async def keep_served_notice(session: AsyncSession, *, served: NoticeServed) -> None:
    """Keep the notice for the portal, then apply, in the order they happened, the updates of
    it that arrived first."""
    await serialise_notice(session, case_id=served.case_id)
    if await session.scalar(select(ServedNotice.id).where(ServedNotice.case_id == served.case_id)):
        return
    notice = ServedNotice(
        id=uuid.uuid4(),
        case_id=served.case_id,
        submission_id=served.submission_id,
        department=served.department,
        employee_ref=served.employee_ref,
        employee_name=served.employee_name,
        content=served.notice,
        reply_due_on=served.reply_due_on,
        status="awaiting_reply",
        served_at=served.served_at,
        updated_at=served.served_at,
    )
    session.add(notice)
    await session.flush()
    note(
        session,
        notice,
        event="served",
        detail=f"reply due on {served.reply_due_on}",
        at=served.served_at,
    )
    await session.flush()
    early = (
        await session.scalars(
            select(PendingNoticeUpdate)
            .where(PendingNoticeUpdate.case_id == served.case_id)
            .order_by(PendingNoticeUpdate.occurred_at, PendingNoticeUpdate.message_id)
        )
    ).all()
    for pending in early:
        await _update_notice(
            session, notice=notice, update=NoticeUpdated.model_validate(pending.payload)
        )
    await session.execute(
        delete(PendingNoticeUpdate).where(PendingNoticeUpdate.case_id == served.case_id)
    )
    await session.flush()


async def _notice_of_case(session: AsyncSession, case_id: uuid.UUID) -> ServedNotice | None:
    return await session.scalar(
        select(ServedNotice).where(ServedNotice.case_id == case_id).with_for_update()
    )


# What each of review's events makes of the notice's status and of the answer it concerns.
NOTICE_STATUS = {
    "extension_requested": "extension_requested",
    "extension_approved": "awaiting_reply",
    "extension_refused": "awaiting_reply",
    "reply_recorded": "reply_received",
    "reply_refused": "reply_refused",
}
ANSWER_STATUS = {
    "extension_requested": "awaiting_chair",
    "extension_approved": "approved",
    "extension_refused": "refused",
    "reply_recorded": "accepted",
    "reply_refused": "refused",
}


async def apply_notice_update(
    session: AsyncSession, *, update: NoticeUpdated, message_id: uuid.UUID
) -> None:
    """Apply the update to its notice; one that comes before its notice is kept until the
    notice arrives (keep_served_notice applies it then), so either order ends the same."""
    await serialise_notice(session, case_id=update.case_id)
    notice = await _notice_of_case(session, update.case_id)
    if notice is None:
        await session.execute(
            insert(PendingNoticeUpdate)
            .values(
                message_id=message_id,
                case_id=update.case_id,
                payload=update.model_dump(mode="json"),
                occurred_at=update.occurred_at,
            )
            .on_conflict_do_nothing(index_elements=[PendingNoticeUpdate.message_id])
        )
        return
    await _update_notice(session, notice=notice, update=update)


async def _update_notice(
    session: AsyncSession, *, notice: ServedNotice, update: NoticeUpdated
) -> None:
    notice.reply_due_on = update.reply_due_on
    if update.event.startswith("extension_"):
        # More time matters only while the notice still waits for the reply.
        if notice.status in ("awaiting_reply", "extension_requested"):
            notice.status = NOTICE_STATUS[update.event]
    elif notice.status != "reply_received":
        notice.status = NOTICE_STATUS[update.event]
    if update.reply_id is not None:
        answer = await session.scalar(
            select(NoticeReply)
            .where(NoticeReply.id == update.reply_id, NoticeReply.notice_id == notice.id)
            .with_for_update()
        )
        if answer is not None:
            answer.status = ANSWER_STATUS[update.event]
            answer.outcome = update.detail
            answer.decided_at = update.occurred_at
    note(session, notice, event=update.event, detail=update.detail, at=update.occurred_at)
    await session.flush()


async def follow_case_status(session: AsyncSession, *, change: CaseStatusChanged) -> None:
    """A lapsed window, or a reply the member recorded by hand, shows on the notice too."""
    if change.status not in ("reply_window_lapsed", "reply_received"):
        return
    notice = await _notice_of_case(session, change.case_id)
    if notice is None or notice.status == "reply_received":
        return
    notice.status = change.status
    note(
        session,
        notice,
        event=change.status,
        detail="the reply window closed with no reply"
        if change.status == "reply_window_lapsed"
        else "the monitoring unit has the employee's reply",
    )
    await session.flush()


# --- for the portal -------------------------------------------------------------------------


async def list_notices(
    session: AsyncSession, *, department: str, employee_ref: str | None, limit: int = 200
) -> list[ServedNotice]:
    query = select(ServedNotice).where(ServedNotice.department == department)
    if employee_ref is not None:
        query = query.where(ServedNotice.employee_ref == employee_ref)
    return list(
        (
            await session.scalars(
                query.order_by(ServedNotice.served_at.desc(), ServedNotice.id).limit(limit)
            )
        ).all()
    )


async def department_notice(
    session: AsyncSession, *, notice_id: uuid.UUID, department: str, lock: bool = False
) -> ServedNotice:
    """The notice if it was served on an employee of this department; 404 otherwise."""
    query = select(ServedNotice).where(
        ServedNotice.id == notice_id, ServedNotice.department == department
    )
    notice = await session.scalar(query.with_for_update() if lock else query)
    if notice is None:
        raise NoticeNotFound(f"No notice {notice_id} for this department.")
    return notice


async def answers_to(session: AsyncSession, *, notice: ServedNotice) -> list[NoticeReply]:
    return list(
        (
            await session.scalars(
                select(NoticeReply)
                .where(NoticeReply.notice_id == notice.id)
                .order_by(NoticeReply.submitted_at, NoticeReply.id)
            )
        ).all()
    )


async def history_of(session: AsyncSession, *, notice: ServedNotice) -> list[NoticeHistoryEvent]:
    return list(
        (
            await session.scalars(
                select(NoticeHistoryEvent)
                .where(NoticeHistoryEvent.notice_id == notice.id)
                .order_by(NoticeHistoryEvent.occurred_at, NoticeHistoryEvent.id)
            )
        ).all()
    )


async def acknowledge_receipt(
    session: AsyncSession, *, notice: ServedNotice, correlation_id: str
) -> ServedNotice:
    """Served with receipt: the first acknowledgement counts and goes to review; a repeat
    changes nothing."""
    if notice.receipt_acknowledged_at is not None:
        return notice
    now = utcnow()
    notice.receipt_acknowledged_at = now
    note(session, notice, event="receipt_acknowledged", detail="the employee received the notice")
    await stage_message(
        session,
        NoticeReceiptAcknowledged(case_id=notice.case_id, notice_id=notice.id, acknowledged_at=now),
        producer="intake",
        correlation_id=correlation_id,
    )
    await session.flush()
    return notice


def reply_problems(reply_in: ReplyCreate) -> list[FieldProblem]:
    """A reply has a statement; a request for more time has none, and nothing of a reply."""
    if reply_in.statement is None and reply_in.extension is None:
        return [
            FieldProblem(
                field="statement", message="required (or ask for more time with extension)"
            )
        ]
    if reply_in.statement is not None and reply_in.extension is not None:
        return [
            FieldProblem(
                field="extension",
                message="ask for more time without a statement: a reply closes the window",
            )
        ]
    if reply_in.statement is None:
        extras = {
            "representative": reply_in.representative is not None,
            "attachments": bool(reply_in.attachments),
            "request_hearing": reply_in.request_hearing,
        }
        return [
            FieldProblem(field=name, message="only with a reply's statement")
            for name, present in extras.items()
            if present
        ]
    return []


async def _attach(
    session: AsyncSession,
    *,
    attachment_ids: list[uuid.UUID],
    client: ClientCredential,
    reply_id: uuid.UUID,
    at: datetime,
) -> list[EvidenceFile]:
    """The department's own evidence files, in the order named; any other is refused with 422
    naming the attachment. Each gets an 'attached' custody line."""
    found = {
        evidence_file.id: evidence_file
        for evidence_file in (
            await session.scalars(
                select(EvidenceFile)
                .where(
                    EvidenceFile.id.in_(sorted(set(attachment_ids))),
                    EvidenceFile.department == client.organisation_code,
                )
                .order_by(EvidenceFile.id)
                .with_for_update()
            )
        ).all()
    }
    unknown = [
        FieldProblem(
            field=f"attachments.{position}",
            message=f"no uploaded evidence file {file_id} of this department",
        )
        for position, file_id in enumerate(attachment_ids)
        if file_id not in found
    ]
    if unknown:
        raise InvalidInput("Some attachments are not this portal's uploads.", errors=unknown)
    for position, file_id in enumerate(dict.fromkeys(attachment_ids)):
        append_custody_line(
            session,
            evidence_file=found[file_id],
            action="attached",
            actor=client_actor(client),
            occurred_at=at,
            note=f"attachment {position} of reply {reply_id} to a notice",
        )
    return [found[file_id] for file_id in dict.fromkeys(attachment_ids)]


async def submit_reply(
    session: AsyncSession,
    *,
    notice: ServedNotice,
    reply_in: ReplyCreate,
    client: ClientCredential,
    correlation_id: str,
) -> NoticeReply:
    """Store the employee's answer and send it to review, which records or refuses it."""
    problems = reply_problems(reply_in)
    if problems:
        raise InvalidInput(
            "A reply, or a request for more time, as its fields say.", errors=problems
        )
    if notice.status in ANSWERED:
        raise NoticeAnswered(
            f"This notice's reply is already {notice.status.replace('_', ' ')}: it takes no "
            "further reply."
        )
    waiting = await session.scalar(
        select(NoticeReply.id).where(
            NoticeReply.notice_id == notice.id, NoticeReply.status == "submitted"
        )
    )
    if waiting is not None:
        raise NoticeAnswered(
            f"An earlier answer ({waiting}) still awaits the monitoring unit; send this one once "
            "the notice shows its outcome."
        )
    now = utcnow()
    reply_id = uuid.uuid4()
    files = await _attach(
        session, attachment_ids=reply_in.attachments, client=client, reply_id=reply_id, at=now
    )
    representative = reply_in.representative
    extension = reply_in.extension
    reply = NoticeReply(
        id=reply_id,
        notice_id=notice.id,
        client_credential_id=client.id,
        statement=reply_in.statement,
        representative=representative.model_dump(mode="json") if representative else None,
        attachment_ids=[evidence_file.id for evidence_file in files],
        hearing_requested=reply_in.request_hearing,
        extension_reason=extension.reason if extension else None,
        extension_working_days=extension.working_days if extension else None,
        status="submitted",
        submitted_at=now,
    )
    session.add(reply)
    if reply_in.statement is not None:
        notice.status = "reply_submitted"
        note(session, notice, event="reply_submitted", detail=f"reply {reply_id} sent to the unit")
    else:
        note(
            session,
            notice,
            event="extension_submitted",
            detail=f"request {reply_id} for more time sent to the unit",
        )
    await stage_message(
        session,
        NoticeReplySubmitted(
            case_id=notice.case_id,
            notice_id=notice.id,
            reply_id=reply_id,
            statement=reply_in.statement,
            representative=ReplyRepresentative(**representative.model_dump())
            if representative
            else None,
            attachments=[
                ReplyAttachment(
                    evidence_file_id=evidence_file.id,
                    sha256=evidence_file.sha256,
                    media_type=evidence_file.media_type,
                    size_bytes=evidence_file.size_bytes,
                )
                for evidence_file in files
            ],
            hearing_requested=reply_in.request_hearing,
            extension=ExtensionAsked(reason=extension.reason, working_days=extension.working_days)
            if extension
            else None,
            submitted_at=now,
        ),
        producer="intake",
        correlation_id=correlation_id,
    )
    await session.flush()
    return reply
