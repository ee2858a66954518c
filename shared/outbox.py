"""The transactional outbox and its relay.

A producer stages its outgoing message in the same transaction as the change it announces, so
a message leaves if and only if its change is committed. The relay (running beside each
service's worker, any number of replicas, rows claimed with SKIP LOCKED) hands staged rows to
arq with a job id derived from the message id. A sweep then checks arq's result for each sent
row: a successful result means the consumer took it; a failed one means arq gave the job up
without it (its definition lost under a worker, as after a FLUSHALL), and no job and no result
after a while means Redis lost it (restart, FLUSHALL): either way the row is handed over again.
Consumers' inboxes make the resend harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from arq.jobs import DeserializationError, deserialize_result
from sqlalchemy import DateTime, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.db import unit_of_work
from shared.messages import Envelope, MessagePayload, Service
from shared.queue import deserialize_job, job_id, queue_name
from shared.settings import ServiceSettings, to_plain_url
from shared.tracing import current_trace_context

logger = structlog.get_logger(__name__)

RELAY_BATCH = 200
# A message whose job arq has failed this many times is no longer handed over (see sweep_sent).
MAX_SENDS = 10


class OutboxMessageColumns:
    """Columns of `<schema>.outbox_message`; each service maps it on its own base."""

    __tablename__ = "outbox_message"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        # One pair per mapped table: Index objects cannot be shared between tables.
        return (
            Index(
                "ix_outbox_message_unsent", "created_at", postgresql_where=text("sent_at IS NULL")
            ),
            Index(
                "ix_outbox_message_unacknowledged",
                "sent_at",
                postgresql_where=text("sent_at IS NOT NULL AND acknowledged_at IS NULL"),
            ),
        )

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_type: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    send_count: Mapped[int] = mapped_column(Integer, server_default="0")


def outbox_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def stage_message(
    session: AsyncSession,
    payload: MessagePayload,
    *,
    producer: Service,
    correlation_id: str,
) -> Envelope:
    """Write the message into the producer's outbox, in the caller's transaction."""
    (envelope,) = await stage_messages(session, [(payload, correlation_id)], producer=producer)
    return envelope


async def stage_messages(
    session: AsyncSession,
    messages: Sequence[tuple[MessagePayload, str]],
    *,
    producer: Service,
) -> list[Envelope]:
    """Write these messages (each a payload and its correlation id) into the producer's
    outbox, in the caller's transaction, with one statement executed for all their rows: a
    batch of cases announced together costs one round trip, not one per case."""
    trace_context = current_trace_context()
    payloads = [payload for payload, _ in messages]
    envelopes = [
        Envelope.wrap(
            payload,
            producer=producer,
            correlation_id=correlation_id,
            trace_context=trace_context,
        )
        for payload, correlation_id in messages
    ]
    rows = [
        {
            "message_id": envelope.message_id,
            "destination": destination,
            "message_type": envelope.type,
            "envelope": envelope.model_dump_json(),
        }
        for payload, envelope in zip(payloads, envelopes, strict=True)
        for destination in payload.consumers
    ]
    if rows:
        await session.execute(
            text(
                f"INSERT INTO {producer}.outbox_message "
                "(message_id, destination, message_type, envelope) "
                "VALUES (:message_id, :destination, :message_type, CAST(:envelope AS JSONB))"
            ),
            # One row as a plain statement, as before batches existed; several as one
            # executemany.
            rows[0] if len(rows) == 1 else rows,
        )
    return envelopes


def job_succeeded(raw_result: bytes) -> bool:
    """Whether an arq result says our consumer answered (processed, duplicate, dead-lettered)
    rather than that arq failed the job before or around it. A result we cannot read counts
    as an answer: resending on a misread would go on for ever."""
    try:
        return bool(deserialize_result(raw_result, deserializer=deserialize_job).success)
    except DeserializationError:
        return True


class OutboxRelay:
    """Moves one service's committed outbox rows onto the queue; safe to run in many replicas."""

    def __init__(
        self,
        *,
        service: Service,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: ArqRedis,
        settings: ServiceSettings,
    ) -> None:
        self.service = service
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.settings = settings
        self._wakeup = asyncio.Event()

    async def _hand_over(self, row: Any) -> bool:
        job = await self.redis.enqueue_job(
            row.message_type,
            row.envelope,
            _job_id=job_id(self.settings, row.message_id, row.destination),
            _queue_name=queue_name(self.settings, row.destination),
        )
        return job is not None

    async def relay_pending(self) -> int:
        """Hand over up to one batch of unsent rows. Returns how many were handed over."""
        async with unit_of_work(self.sessionmaker) as session:
            rows = (
                await session.execute(
                    text(
                        f"SELECT message_id, destination, message_type, envelope "
                        f"FROM {self.service}.outbox_message WHERE sent_at IS NULL "
                        "ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED"
                    ),
                    {"batch": RELAY_BATCH},
                )
            ).all()
            for row in rows:
                await self._hand_over(row)
            if rows:
                await session.execute(
                    text(
                        f"UPDATE {self.service}.outbox_message "
                        "SET sent_at = now(), send_count = send_count + 1 "
                        "WHERE (message_id, destination) IN "
                        "(SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:dests AS text[])))"
                    ),
                    {
                        "ids": [row.message_id for row in rows],
                        "dests": [row.destination for row in rows],
                    },
                )
        return len(rows)

    async def sweep_sent(self) -> tuple[int, int]:
        """Acknowledge rows whose job has a result; hand over again rows Redis has lost.

        Returns (acknowledged, handed over again).
        """
        acknowledged: list[tuple[uuid.UUID, str]] = []
        resent: list[tuple[uuid.UUID, str]] = []
        given_up: list[tuple[uuid.UUID, str]] = []
        async with unit_of_work(self.sessionmaker) as session:
            rows = (
                await session.execute(
                    text(
                        f"SELECT message_id, destination, message_type, envelope, send_count, "
                        f"sent_at < now() - make_interval(secs => :resend_after) AS overdue "
                        f"FROM {self.service}.outbox_message "
                        "WHERE sent_at IS NOT NULL AND acknowledged_at IS NULL "
                        "AND sent_at < now() - interval '1 second' "
                        "ORDER BY sent_at LIMIT 1000 FOR UPDATE SKIP LOCKED"
                    ),
                    {"resend_after": self.settings.relay_resend_after_seconds},
                )
            ).all()
            if not rows:
                return (0, 0)
            async with self.redis.pipeline(transaction=False) as pipe:
                for row in rows:
                    pipe.get(
                        result_key_prefix + job_id(self.settings, row.message_id, row.destination)
                    )
                results = await pipe.execute()
            for row, result in zip(rows, results, strict=True):
                key = (row.message_id, row.destination)
                if result is not None and job_succeeded(result):
                    acknowledged.append(key)
                elif result is not None and row.send_count >= MAX_SENDS:
                    # Given up again and again (a handler that kills its worker every time):
                    # left unacknowledged for an operator, rather than crash workers for ever.
                    given_up.append(key)
                elif result is not None:
                    # arq gave the job up without our consumer's answer (its definition gone
                    # under it, as after a FLUSHALL; tries exhausted by crashes): its result
                    # must not stand for the message. Forget it and hand the message over again.
                    await self.redis.delete(
                        result_key_prefix + job_id(self.settings, row.message_id, row.destination)
                    )
                    if await self._hand_over(row):
                        resent.append(key)
                elif row.overdue and await self._hand_over(row):
                    resent.append(key)
            for keys, assignment in (
                (acknowledged, "acknowledged_at = now()"),
                (resent, "sent_at = now(), send_count = send_count + 1"),
            ):
                if keys:
                    await session.execute(
                        text(
                            f"UPDATE {self.service}.outbox_message SET {assignment} "
                            "WHERE (message_id, destination) IN "
                            "(SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:dests AS text[])))"
                        ),
                        {"ids": [k[0] for k in keys], "dests": [k[1] for k in keys]},
                    )
        if resent:
            logger.warning("outbox rows handed over again", count=len(resent))
        if given_up:
            logger.error(
                "outbox rows whose jobs arq keeps giving up; not handed over again",
                count=len(given_up),
                message_ids=sorted(str(message_id) for message_id, _ in given_up),
            )
        return (len(acknowledged), len(resent))

    async def _listen(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(to_plain_url(self.settings.database_url), timeout=10)
        await connection.add_listener(outbox_channel(self.service), lambda *_: self._wakeup.set())
        return connection

    async def run(self) -> None:
        """Relay until cancelled. NOTIFY wakes it at once; polling covers lost notifications."""
        listener: asyncpg.Connection | None = None
        sweep_every = max(1.0, self.settings.relay_poll_seconds * 2)
        loop = asyncio.get_running_loop()
        last_sweep = 0.0
        try:
            while True:
                try:
                    if listener is None or listener.is_closed():
                        listener = await self._listen()
                    self._wakeup.clear()
                    while await self.relay_pending() == RELAY_BATCH:
                        pass
                    if loop.time() - last_sweep >= sweep_every:
                        await self.sweep_sent()
                        last_sweep = loop.time()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wakeup.wait(), timeout=self.settings.relay_poll_seconds
                        )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a lost database or Redis: wait and go on
                    logger.warning("outbox relay paused", error_type=type(exc).__name__)
                    if listener is not None:
                        with contextlib.suppress(Exception):
                            await listener.close()
                        listener = None
                    await asyncio.sleep(1.0)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()
