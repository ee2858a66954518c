"""review's handler for its own triage message: answer a case's permission check."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.settings import get_settings
from services.review.triage.service import answer_permission_check
from shared.consumer import MessageHandler
from shared.messages import Envelope, PermissionCheckRequested


async def check_case_permission(
    session: AsyncSession, request: PermissionCheckRequested, envelope: Envelope
) -> None:
    await answer_permission_check(session, case_id=request.case_id, settings=get_settings())


on_permission_check_requested = MessageHandler(PermissionCheckRequested, check_case_permission)
