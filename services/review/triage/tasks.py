"""review's handler for its own triage message (answer a case's permission check), and the
scheduled job that asks registry again where it could not answer."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case
from services.review.settings import ReviewSettings, get_settings
from services.review.triage.models import PermissionCheck
from services.review.triage.service import answer_permission_check
from shared.consumer import MessageHandler, WorkerResources
from shared.db import unit_of_work, utcnow
from shared.messages import Envelope, PermissionCheckRequested
from shared.outbox import stage_message

logger = structlog.get_logger(__name__)

# Checks asked again per run; the rest wait for the next run.
RECHECK_BATCH = 200
# Before the notice, what registry says can still change what the member does.
BEFORE_NOTICE = (CaseState.RECEIVED.value, CaseState.ASSIGNED.value, CaseState.IN_REVIEW.value)


async def check_case_permission(
    session: AsyncSession, request: PermissionCheckRequested, envelope: Envelope
) -> None:
    await answer_permission_check(session, case_id=request.case_id, settings=get_settings())


on_permission_check_requested = MessageHandler(PermissionCheckRequested, check_case_permission)


async def recheck_unanswered_permission_checks(ctx: dict[str, Any]) -> int:
    """Ask registry again about checks it could not answer (unreachable, refusing, or not yet
    configured), for cases still before their notice: at most every
    REVIEW_REGISTRY_RECHECK_MINUTES, REVIEW_REGISTRY_RECHECK_LIMIT times. Returns how many."""
    resources: WorkerResources = ctx["resources"]
    settings = (
        resources.settings if isinstance(resources.settings, ReviewSettings) else get_settings()
    )
    if not settings.registry_url or settings.registry_reader_token is None:
        return 0
    correlation_id = f"recheck-permission-checks-{uuid.uuid4().hex}"
    async with unit_of_work(resources.sessionmaker) as session:
        case_ids = list(
            (
                await session.scalars(
                    select(PermissionCheck.case_id)
                    .join(Case, Case.id == PermissionCheck.case_id)
                    .where(
                        PermissionCheck.status == "unknown",
                        PermissionCheck.reason.startswith("registry"),
                        PermissionCheck.attempts < settings.registry_recheck_limit,
                        PermissionCheck.checked_at
                        < utcnow() - timedelta(minutes=settings.registry_recheck_minutes),
                        Case.state.in_(BEFORE_NOTICE),
                    )
                    .order_by(PermissionCheck.checked_at)
                    .limit(RECHECK_BATCH)
                    .with_for_update(of=PermissionCheck, skip_locked=True)
                )
            ).all()
        )
        for case_id in case_ids:
            await stage_message(
                session,
                PermissionCheckRequested(case_id=case_id),
                producer="review",
                correlation_id=correlation_id,
            )
            # Not asked again until this ask is answered or the interval passes once more.
            check = await session.get(PermissionCheck, case_id)
            if check is not None:
                check.checked_at = utcnow()
    if case_ids:
        logger.info("permission checks asked again", count=len(case_ids))
    return len(case_ids)
