"""review's handlers for what the department's portal sends back about a notice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.notices.service import record_receipt, take_portal_reply
from services.review.settings import get_settings
from shared.consumer import MessageHandler
from shared.messages import Envelope, NoticeReceiptAcknowledged, NoticeReplySubmitted


async def acknowledge_receipt(
    session: AsyncSession, receipt: NoticeReceiptAcknowledged, envelope: Envelope
) -> None:
    await record_receipt(session, receipt=receipt)


async def take_reply(
    session: AsyncSession, submitted: NoticeReplySubmitted, envelope: Envelope
) -> None:
    await take_portal_reply(
        session,
        submitted=submitted,
        settings=get_settings(),
        correlation_id=envelope.correlation_id,
    )


on_notice_receipt_acknowledged = MessageHandler(NoticeReceiptAcknowledged, acknowledge_receipt)
on_notice_reply_submitted = MessageHandler(NoticeReplySubmitted, take_reply)
