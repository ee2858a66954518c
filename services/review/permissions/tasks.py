"""review's handler for permission requests (each opens a permission case and assigns it), and
the scheduled renewal reminders for grants nearing expiry."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.tasks import (
    SWEEP_BATCH,
    in_batches,
    review_settings,
    sweep_correlation_id,
)
from services.review.permissions.reminders import remind_renewals
from services.review.permissions.service import open_permission_case
from services.review.settings import get_settings
from shared.consumer import MessageHandler, WorkerResources
from shared.messages import Envelope, PermissionRequested

logger = structlog.get_logger(__name__)


async def open_request_case(
    session: AsyncSession, request: PermissionRequested, envelope: Envelope
) -> None:
    await open_permission_case(
        session, request=request, settings=get_settings(), correlation_id=envelope.correlation_id
    )


on_permission_requested = MessageHandler(PermissionRequested, open_request_case)


async def send_renewal_reminders(ctx: dict[str, Any]) -> int:
    """Remind the cases of grants nearing expiry, in batches. Returns how many."""
    resources: WorkerResources = ctx["resources"]
    settings = review_settings(resources)
    correlation_id = sweep_correlation_id("renewal-reminders")
    reminded = await in_batches(
        resources,
        lambda session, now: remind_renewals(
            session,
            today=now.date(),
            now=now,
            within_days=settings.permission_renewal_reminder_days,
            correlation_id=correlation_id,
            limit=SWEEP_BATCH,
        ),
    )
    if reminded:
        logger.info("permission renewals reminded", count=reminded)
    return reminded
