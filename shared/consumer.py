"""Consuming messages exactly once in effect: the inbox, retries with backoff, the dead letters.

Each message type a service consumes becomes one arq function named after the type. The
function records the message id in the service's inbox in the same transaction as the
handler's effect, so a redelivery (arq is at-least-once) changes nothing. A handler that fails
is retried with backoff; after the configured attempts, or at once for a message that does not
parse, the message lands in the service's dead-letter table for an operator to inspect and
replay.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

import structlog
from arq import Retry
from arq.worker import Function, func
from pydantic import ValidationError
from sqlalchemy import DateTime, Integer, String, Text, text
from sqlalchemy import func as sql_func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import unit_of_work
from shared.messages import Envelope, PayloadT, Service
from shared.metrics import JOB_DURATION, JOBS
from shared.settings import ServiceSettings
from shared.tracing import consuming

logger = structlog.get_logger(__name__)


class InboxMessageColumns:
    __tablename__ = "inbox_message"

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    message_type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=sql_func.now()
    )


class DeadLetterColumns:
    __tablename__ = "dead_letter"

    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_type: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=sql_func.now()
    )
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class WorkerResources:
    """What a job reaches through arq's ctx["resources"]: made once in on_startup."""

    service: Service
    settings: ServiceSettings
    sessionmaker: async_sessionmaker[AsyncSession]


HandlerFn = Callable[[AsyncSession, PayloadT, Envelope], Awaitable[None]]
AfterCommitFn = Callable[[WorkerResources], Awaitable[None]]


@dataclass(frozen=True)
class MessageHandler(Generic[PayloadT]):
    """Binds one message type to the function that applies its effect.

    `after_commit`, if given, runs once the effect is committed (and again for a redelivered
    copy, so a worker lost between the two only delays it): work that must see the effect
    committed, such as a batch over what several messages left behind. It opens its own
    transactions and must be safe to run any number of times. If it fails, the message is
    retried as if the handler had failed.
    """

    payload_type: type[PayloadT]
    handle: HandlerFn[PayloadT]
    after_commit: AfterCommitFn | None = None


class PoisonMessage(Exception):
    """A message that can never be processed as it stands (it does not match its contract)."""


def retry_delay_seconds(attempt: int) -> float:
    """Exponential backoff, 1 s, 2 s, 4 s... capped at a minute."""
    return float(min(2 ** max(attempt - 1, 0), 60))


async def claim_message(session: AsyncSession, *, service: Service, envelope: Envelope) -> bool:
    """Record the message in the inbox; False if it was already processed (a redelivery)."""
    claimed = await session.execute(
        text(
            f"INSERT INTO {service}.inbox_message (message_id, message_type) "
            "VALUES (:message_id, :message_type) ON CONFLICT DO NOTHING RETURNING message_id"
        ),
        {"message_id": envelope.message_id, "message_type": envelope.type},
    )
    return claimed.first() is not None


async def record_dead_letter(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    service: Service,
    job_id: str,
    message_type: str,
    envelope: dict[str, Any] | None,
    error: BaseException,
    attempts: int,
) -> None:
    # The error's class and first line only: handler messages must not carry personal data,
    # and a truncated line is enough for an operator to find the cause in the logs.
    summary = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:500]
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                f"INSERT INTO {service}.dead_letter "
                "(job_id, message_type, envelope, error, attempts) "
                "VALUES (:job_id, :message_type, CAST(:envelope AS JSONB), :error, :attempts) "
                "ON CONFLICT (job_id) DO UPDATE SET error = EXCLUDED.error, "
                "attempts = EXCLUDED.attempts, failed_at = now(), replayed_at = NULL"
            ),
            {
                "job_id": job_id,
                "message_type": message_type,
                "envelope": json.dumps(envelope) if envelope is not None else None,
                "error": summary,
                "attempts": attempts,
            },
        )


def handler_deadline_seconds(job_timeout_seconds: float) -> float:
    """How long a handler's transaction may take: four fifths of arq's job timeout, the rest
    kept for recording a retry or a dead letter before arq would give up on the job."""
    return job_timeout_seconds * 0.8


def consumer_function(handler: MessageHandler[Any], *, timeout_seconds: int) -> Function:
    """The arq function for one message type, named after the type."""
    message_type = handler.payload_type.message_type

    async def consume(ctx: dict[str, Any], document: dict[str, Any]) -> str:
        resources: WorkerResources = ctx["resources"]
        started = time.perf_counter()
        outcome = "retried"
        try:
            outcome = await deliver(ctx, document)
            return outcome
        finally:
            JOBS.labels(resources.service, message_type, outcome.replace("-", "_")).inc()
            JOB_DURATION.labels(resources.service, message_type).observe(
                time.perf_counter() - started
            )

    async def deliver(ctx: dict[str, Any], document: dict[str, Any]) -> str:
        resources: WorkerResources = ctx["resources"]
        attempt: int = ctx.get("job_try", 1)
        job_id: str = ctx.get("job_id", "unknown")
        log = logger.bind(message_type=message_type, job_id=job_id, attempt=attempt)
        try:
            try:
                envelope = Envelope.model_validate(document)
                if envelope.type != message_type:
                    raise PoisonMessage(f"envelope type {envelope.type} sent to {message_type}")
                payload = handler.payload_type.model_validate(envelope.payload)
            except ValidationError as exc:
                raise PoisonMessage(f"does not match the {message_type} contract") from exc
            log = log.bind(
                message_id=str(envelope.message_id), correlation_id=envelope.correlation_id
            )
            # A child of the span that staged the message: what the handler stages carries
            # the same trace onward.
            with consuming(
                message_type=message_type,
                message_id=str(envelope.message_id),
                correlation_id=envelope.correlation_id,
                trace_context=envelope.trace_context,
                service=resources.service,
            ) as span:
                # Ours before arq's: arq fails a job that outlives its timeout for good (a
                # result, so the relay takes it as done), where a slow database must only
                # mean "retry later". Timed out here, the transaction is rolled back and the
                # message retried like any failure, leaving time to dead-letter it.
                async with (
                    asyncio.timeout(handler_deadline_seconds(timeout_seconds)),
                    unit_of_work(resources.sessionmaker) as session,
                ):
                    duplicate = not await claim_message(
                        session, service=resources.service, envelope=envelope
                    )
                    if not duplicate:
                        await handler.handle(session, payload, envelope)
                if handler.after_commit is not None:
                    await handler.after_commit(resources)
                if duplicate:
                    log.info("message already processed")
                    span.set_attribute("conduct.duplicate", True)
                    return "duplicate"
            log.info("message processed")
            return "processed"
        except PoisonMessage as exc:
            log.error("poison message dead-lettered", error=str(exc))
            await record_dead_letter(
                resources.sessionmaker,
                service=resources.service,
                job_id=job_id,
                message_type=message_type,
                envelope=document,
                error=exc,
                attempts=attempt,
            )
            return "dead-lettered"
        except Exception as exc:
            if attempt >= resources.settings.delivery_attempts:
                log.error("message dead-lettered after attempts", error_type=type(exc).__name__)
                await record_dead_letter(
                    resources.sessionmaker,
                    service=resources.service,
                    job_id=job_id,
                    message_type=message_type,
                    envelope=document,
                    error=exc,
                    attempts=attempt,
                )
                return "dead-lettered"
            delay = retry_delay_seconds(attempt)
            log.warning("message will be retried", error_type=type(exc).__name__, delay=delay)
            raise Retry(defer=delay) from exc

    consume.__qualname__ = consume.__name__ = "on_" + message_type.replace(".", "_")
    return func(consume, name=message_type, timeout=timeout_seconds)
