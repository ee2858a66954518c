"""review's handlers and scheduled jobs: reports become cases; registry records close the loop;
every minute, waiting cases find a member, lapsed reply windows close, and cases untouched past
their stage's deadline are escalated to the chair."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sized
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.assignment_service import (
    assign_awaiting_cases,
    assign_waiting_cases,
    claim_unit_awaiting_assignment,
)
from services.review.cases.closing import close_unappealed_violations
from services.review.cases.deadline_sweeps import (
    escalate_overdue_cases,
    lapse_reply_windows,
    units_with_waiting_cases,
)
from services.review.cases.routing import route_unrouted_cases
from services.review.cases.service import mark_recorded, open_cases_for_report
from services.review.settings import ReviewSettings, get_settings
from shared.consumer import MessageHandler, WorkerResources
from shared.db import unit_of_work, utcnow
from shared.messages import Envelope, RecordCreated, ReportReceived

logger = structlog.get_logger(__name__)

# Batches per sweep: a backlog is worked off over several runs rather than outliving the job's
# timeout; each batch is its own transaction, so locks are short. A sweep goes on until a
# batch finds nothing: a short batch may only mean another worker held some of the rows.
SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 20


async def open_report_cases(
    session: AsyncSession, report: ReportReceived, envelope: Envelope
) -> None:
    await open_cases_for_report(
        session,
        report=report,
        settings=get_settings(),
        correlation_id=envelope.correlation_id,
        assign_after_commit=True,
    )


async def close_recorded_case(
    session: AsyncSession, record: RecordCreated, envelope: Envelope
) -> None:
    await mark_recorded(session, record=record, correlation_id=envelope.correlation_id)


def review_settings(resources: WorkerResources) -> ReviewSettings:
    settings = resources.settings
    return settings if isinstance(settings, ReviewSettings) else get_settings()


async def assign_opened_cases(resources: WorkerResources) -> None:
    """After a message that opened cases has committed: assign every unit's awaiting cases,
    a batch per transaction, until no unit is left that another assigner is not already
    working (that one looks again when it lets go, so no case is left behind)."""
    settings = review_settings(resources)
    # Bounded, so that a steady stream never keeps one job running past its timeout: a
    # backlog beyond it is left to the next message's assigner, or the waiting-case sweep.
    for _ in range(SWEEP_MAX_BATCHES):
        async with unit_of_work(resources.sessionmaker) as session:
            unit_id = await claim_unit_awaiting_assignment(session)
            if unit_id is None:
                return
            taken = await assign_awaiting_cases(session, unit_id=unit_id, settings=settings)
        if not taken:
            # Every awaiting case was held by another transaction: the next message's
            # assigner, or the waiting-case sweep, takes them.
            return


on_report_received = MessageHandler(
    ReportReceived, open_report_cases, after_commit=assign_opened_cases
)
on_record_created = MessageHandler(RecordCreated, close_recorded_case)


async def in_batches(
    resources: WorkerResources,
    sweep_batch: Callable[[AsyncSession, datetime], Awaitable[Sized]],
) -> int:
    """Run one batch of a sweep per transaction (at `now`), until a batch finds nothing or
    SWEEP_MAX_BATCHES ran; returns how many rows the batches took in all."""
    done = 0
    for _ in range(SWEEP_MAX_BATCHES):
        async with unit_of_work(resources.sessionmaker) as session:
            batch = await sweep_batch(session, utcnow())
        done += len(batch)
        if not batch:
            break
    return done


def sweep_correlation_id(job: str) -> str:
    return f"{job}-{uuid.uuid4().hex}"


async def sweep_waiting_cases(ctx: dict[str, Any]) -> int:
    """Hand waiting cases to members who can now take them: the safety net behind the
    immediate assignment when a member joins or returns from leave. Returns cases assigned."""
    resources: WorkerResources = ctx["resources"]
    settings = review_settings(resources)
    correlation_id = sweep_correlation_id("sweep-waiting-cases")
    for _ in range(SWEEP_MAX_BATCHES):
        # Cases opened before any unit served their organisation, now served: routed first.
        async with unit_of_work(resources.sessionmaker) as session:
            routed = await route_unrouted_cases(session, limit=SWEEP_BATCH)
        if not routed:
            break
    async with unit_of_work(resources.sessionmaker) as session:
        unit_ids = await units_with_waiting_cases(session)
    assigned = 0
    for unit_id in unit_ids:
        # One transaction per unit: a busy unit never holds another unit's roster locked.
        async with unit_of_work(resources.sessionmaker) as session:
            handovers = await assign_waiting_cases(
                session,
                unit_id=unit_id,
                settings=settings,
                actor=None,
                correlation_id=correlation_id,
            )
        assigned += len(handovers)
    if assigned:
        logger.info("waiting cases assigned", count=assigned, units=len(unit_ids))
    return assigned


async def sweep_deadlines(ctx: dict[str, Any]) -> dict[str, int]:
    """Close lapsed reply windows, then escalate cases untouched past their stage's deadline.
    Returns how many of each."""
    resources: WorkerResources = ctx["resources"]
    settings = review_settings(resources)
    correlation_id = sweep_correlation_id("sweep-deadlines")
    counts = {
        "lapsed": await in_batches(
            resources,
            lambda session, now: lapse_reply_windows(
                session,
                today=now.date(),
                now=now,
                correlation_id=correlation_id,
                limit=SWEEP_BATCH,
            ),
        ),
        "escalated": await in_batches(
            resources,
            lambda session, now: escalate_overdue_cases(
                session, settings=settings, today=now.date(), now=now, limit=SWEEP_BATCH
            ),
        ),
    }
    if any(counts.values()):
        logger.info("deadlines swept", **counts)
    return counts


async def sweep_settled_cases(ctx: dict[str, Any]) -> int:
    """Close recorded violations whose appeal window (and grace) passed with no appeal.
    Returns cases closed."""
    resources: WorkerResources = ctx["resources"]
    settings = review_settings(resources)
    correlation_id = sweep_correlation_id("sweep-settled-cases")
    closed = await in_batches(
        resources,
        lambda session, now: close_unappealed_violations(
            session,
            today=now.date(),
            now=now,
            appeal_window_days=settings.appeal_window_days,
            grace_days=settings.close_grace_days,
            correlation_id=correlation_id,
            limit=SWEEP_BATCH,
        ),
    )
    if closed:
        logger.info("settled cases closed", count=closed)
    return closed
