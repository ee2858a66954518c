"""A handler that outlives its deadline (a slow or half-dead database, F8) is retried, and in
the end dead-lettered, never failed for good. arq fails a job that outlives its timeout and
keeps a result for it, which the outbox relay reads as "taken": the message was lost. The
consumer's own deadline, shorter than arq's, turns it into an ordinary retry."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from arq import Retry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.settings import get_settings
from shared.consumer import MessageHandler, WorkerResources, consumer_function
from shared.messages import Envelope, ReportReceived
from tests.factories import report_received, unique_code

Sessionmaker = async_sessionmaker[AsyncSession]
JOB_TIMEOUT_SECONDS = 1


async def too_slow(session: AsyncSession, payload: ReportReceived, envelope: Envelope) -> None:
    await session.execute(text("SELECT 1"))
    await asyncio.sleep(JOB_TIMEOUT_SECONDS * 5)


async def deliver(sessionmaker: Sessionmaker, *, attempt: int) -> tuple[Any, float, str, Envelope]:
    envelope = Envelope.wrap(
        report_received(department=unique_code("DEPT")), producer="intake", correlation_id="t"
    )
    function = consumer_function(
        MessageHandler(ReportReceived, too_slow), timeout_seconds=JOB_TIMEOUT_SECONDS
    )
    job_id = f"deadline:{uuid.uuid4()}"
    ctx = {
        "resources": WorkerResources(
            service="review", settings=get_settings(), sessionmaker=sessionmaker
        ),
        "job_try": attempt,
        "job_id": job_id,
    }
    started = time.monotonic()
    try:
        outcome: Any = await function.coroutine(ctx, envelope.model_dump(mode="json"))
    except Retry as retry:
        outcome = retry
    return outcome, time.monotonic() - started, job_id, envelope


async def test_a_handler_past_its_deadline_is_retried_within_the_job_timeout(
    sessionmaker: Sessionmaker,
) -> None:
    outcome, took, _, envelope = await deliver(sessionmaker, attempt=1)
    assert isinstance(outcome, Retry)
    assert took < JOB_TIMEOUT_SECONDS, "arq's own timeout would have failed the job for good"
    async with sessionmaker() as session:
        claimed = await session.scalar(
            text("SELECT count(*) FROM review.inbox_message WHERE message_id = :id"),
            {"id": envelope.message_id},
        )
    assert claimed == 0, "the timed-out transaction was rolled back"


@pytest.mark.parametrize("attempt", [get_settings().delivery_attempts])
async def test_a_handler_past_its_deadline_at_its_last_attempt_is_dead_lettered(
    sessionmaker: Sessionmaker, attempt: int
) -> None:
    outcome, _, job_id, _ = await deliver(sessionmaker, attempt=attempt)
    assert outcome == "dead-lettered"
    async with sessionmaker() as session:
        error = await session.scalar(
            text("SELECT error FROM review.dead_letter WHERE job_id = :id"), {"id": job_id}
        )
    assert error is not None and error.startswith("TimeoutError")
