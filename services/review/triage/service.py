"""The permission check at triage: asked for when a report case opens, answered by the worker
from registry's HTTP API, shown on the case and written on its history before anyone acts.

The answer is one of: permitted (naming registry's record), not permitted, or unknown (registry
unreachable, or the report names no account or date to ask about). A case whose check is still
pending may not be screened (services.review.screening), so no member acts on a report
without seeing what registry said.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.history import note_on_case
from services.review.cases.models import Case
from services.review.settings import ReviewSettings
from services.review.triage.models import PermissionCheck
from services.review.triage.registry_client import (
    CheckAnswer,
    RegistryUnreachable,
    check_permission,
)
from shared.db import utcnow
from shared.messages import PermissionCheckRequested
from shared.outbox import stage_message

logger = structlog.get_logger(__name__)


def nothing_to_ask(check: PermissionCheck, *, settings: ReviewSettings) -> str | None:
    """Why registry cannot be asked at all, so the answer is 'unknown' at once."""
    if check.checked_on is None:
        return "the report gives no date for the post"
    if not check.account_handles:
        return "the report names no account (no author handle in its evidence)"
    if not settings.registry_url or settings.registry_reader_token is None:
        return "registry is not configured (REVIEW_REGISTRY_URL), so it cannot be asked"
    return None


async def request_permission_check(
    session: AsyncSession,
    *,
    case: Case,
    account_handles: list[str],
    settings: ReviewSettings,
    correlation_id: str,
) -> PermissionCheck:
    """Record the check with the case: answered at once when there is nothing to ask registry
    about, otherwise pending, with the message that has the worker ask."""
    now = utcnow()
    check = PermissionCheck(
        case_id=case.id,
        status="pending",
        reason="waiting for registry's answer",
        platform=case.platform,
        account_handles=account_handles,
        checked_on=case.posted_at.astimezone(UTC).date() if case.posted_at else None,
        requested_at=now,
        attempts=0,
    )
    session.add(check)
    unanswerable = nothing_to_ask(check, settings=settings)
    if unanswerable is not None:
        record_answer(session, check=check, case=case, status="unknown", reason=unanswerable)
        return check
    await stage_message(
        session,
        PermissionCheckRequested(case_id=case.id),
        producer="review",
        correlation_id=correlation_id,
    )
    return check


def record_answer(
    session: AsyncSession,
    *,
    check: PermissionCheck,
    case: Case,
    status: str,
    reason: str,
    answer: CheckAnswer | None = None,
) -> None:
    """The answer on the check and on the case's history."""
    now = utcnow()
    check.status = status
    check.reason = reason
    check.checked_at = now
    grant = answer.grant if answer else None
    check.record_id = grant.record_id if grant else None
    check.record_kind = grant.record_kind if grant else None
    label = {"permitted": "permitted", "not_permitted": "not permitted", "unknown": "unknown"}
    note_on_case(
        session,
        case=case,
        actor=None,
        reason=f"permission check at triage: {label[status]}: {reason}",
        at=now,
    )


async def _ask_registry(
    settings: ReviewSettings,
    *,
    check: PermissionCheck,
    case: Case,
    transport: httpx.AsyncBaseTransport | None,
) -> tuple[str, str, CheckAnswer | None]:
    """(status, reason, the answer that permitted it) for the check."""
    unanswerable = nothing_to_ask(check, settings=settings)
    if unanswerable is not None or check.checked_on is None:
        return "unknown", unanswerable or "the report gives no date for the post", None
    for handle in check.account_handles:
        # The subject's own personal permission for the account...
        answer = await check_permission(
            settings,
            platform=check.platform,
            account_handle=handle,
            on=check.checked_on,
            employee_ref=case.subject_employee_ref,
            transport=transport,
        )
        if answer.permitted and answer.grant is not None:
            return (
                "permitted",
                f"personal permission for {check.platform} {handle} covered "
                f"{check.checked_on} (registry record {answer.grant.record_id})",
                answer,
            )
        # ...or the department's official account, which the subject may post from.
        answer = await check_permission(
            settings,
            platform=check.platform,
            account_handle=handle,
            on=check.checked_on,
            employee_ref=None,
            transport=transport,
        )
        grant = answer.grant
        if (
            answer.permitted
            and grant is not None
            and grant.record_kind == "official_account"
            and grant.department == case.department
        ):
            return (
                "permitted",
                f"{check.platform} {handle} is an official account of {case.department} "
                f"granted for {check.checked_on} (registry record {grant.record_id})",
                answer,
            )
    handles = ", ".join(check.account_handles)
    return (
        "not_permitted",
        f"no grant covered {check.platform} {handles} for this employee on {check.checked_on}",
        None,
    )


async def answer_permission_check(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    settings: ReviewSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PermissionCheck | None:
    """Ask registry and record its answer on the check and the case's history. A check
    already answered (permitted or not) is left alone; an unknown one is asked again."""
    check = await session.scalar(
        select(PermissionCheck).where(PermissionCheck.case_id == case_id).with_for_update()
    )
    if check is None or check.status in ("permitted", "not_permitted"):
        return check
    case = await session.get(Case, check.case_id)
    if case is None:
        return None
    check.attempts += 1
    try:
        # Within the job's own timeout, so a slow registry gives 'unknown', not a killed job.
        async with asyncio.timeout(settings.job_timeout_seconds * 0.75):
            status, reason, answer = await _ask_registry(
                settings, check=check, case=case, transport=transport
            )
    except TimeoutError:
        logger.warning("permission check: registry too slow", case_id=str(case.id))
        status, reason, answer = "unknown", "registry unreachable: no answer in time", None
    except RegistryUnreachable as exc:
        logger.warning("permission check: registry unreachable", case_id=str(case.id))
        status, reason, answer = "unknown", str(exc), None
    record_answer(session, check=check, case=case, status=status, reason=reason, answer=answer)
    await session.flush()
    return check
