"""intake's handlers for notices: a served notice is kept for the portal; review's updates move
its status, whichever of the two the queue hands over first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.notices.service import apply_notice_update, keep_served_notice
from shared.consumer import MessageHandler
from shared.messages import Envelope, NoticeServed, NoticeUpdated


async def keep_notice(session: AsyncSession, served: NoticeServed, envelope: Envelope) -> None:
    await keep_served_notice(session, served=served)


async def update_notice(session: AsyncSession, update: NoticeUpdated, envelope: Envelope) -> None:
    await apply_notice_update(session, update=update, message_id=envelope.message_id)


on_notice_served = MessageHandler(NoticeServed, keep_notice)
on_notice_updated = MessageHandler(NoticeUpdated, update_notice)
