"""review's handler for permission requests: each opens a permission case and assigns it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.permissions.service import open_permission_case
from services.review.settings import get_settings
from shared.consumer import MessageHandler
from shared.messages import Envelope, PermissionRequested


async def open_request_case(
    session: AsyncSession, request: PermissionRequested, envelope: Envelope
) -> None:
    await open_permission_case(
        session, request=request, settings=get_settings(), correlation_id=envelope.correlation_id
    )


on_permission_requested = MessageHandler(PermissionRequested, open_request_case)
