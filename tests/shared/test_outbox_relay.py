"""The outbox relay and the consumers' inbox: a committed message leaves exactly once in
effect, even when Redis loses it, and a message that cannot be processed is dead-lettered
rather than lost."""

from __future__ import annotations

import uuid
from typing import Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work
from shared.messages import DeterminationRecorded
from shared.outbox import MAX_SENDS, OutboxRelay, stage_message
from shared.queue import job_id, queue_name
from shared.settings import ServiceSettings
from tests.registry.factories import determination
from tests.support import run_worker


def relay_for(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, **overrides: Any
) -> OutboxRelay:
    settings = ServiceSettings.model_validate(overrides)
    return OutboxRelay(service="review", sessionmaker=sessionmaker, redis=queue, settings=settings)


async def stage(
    sessionmaker: async_sessionmaker[AsyncSession], payload: DeterminationRecorded
) -> uuid.UUID:
    async with unit_of_work(sessionmaker) as session:
        envelope = await stage_message(session, payload, producer="review", correlation_id="test")
    return envelope.message_id


async def outbox_row(sessionmaker: async_sessionmaker[AsyncSession], message_id: uuid.UUID) -> Any:
    async with sessionmaker() as session:
        return (
            await session.execute(
                text(
                    "SELECT sent_at, acknowledged_at, send_count FROM review.outbox_message WHERE message_id = :id"
                ),
                {"id": message_id},
            )
        ).one()


async def ledger_records(sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID) -> int:
    async with sessionmaker() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM registry.ledger_record WHERE case_id = :id"),
                    {"id": case_id},
                )
            ).scalar_one()
        )


async def drain(sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis) -> None:
    """Hand over whatever any outbox holds and run every worker until quiet."""
    from tests.support import pump

    await pump(sessionmaker, queue)


async def test_a_rolled_back_change_sends_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = determination()
    try:
        async with unit_of_work(sessionmaker) as session:
            await stage_message(session, payload, producer="review", correlation_id="test")
            raise RuntimeError("the change fails after staging")
    except RuntimeError:
        pass
    async with sessionmaker() as session:
        staged = (
            await session.execute(
                text(
                    "SELECT count(*) FROM review.outbox_message WHERE envelope->'payload'->>'case_id' = :id"
                ),
                {"id": str(payload.case_id)},
            )
        ).scalar_one()
    assert staged == 0


async def test_relayed_message_is_acknowledged_once_its_job_has_a_result(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    await drain(sessionmaker, queue)
    payload = determination()
    message_id = await stage(sessionmaker, payload)
    relay = relay_for(sessionmaker, queue)

    assert await relay.relay_pending() >= 1
    assert (await outbox_row(sessionmaker, message_id)).sent_at is not None
    await run_worker("registry", queue)
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "UPDATE review.outbox_message SET sent_at = sent_at - interval '5 seconds' WHERE message_id = :id"
            ),
            {"id": message_id},
        )
    await relay.sweep_sent()

    row = await outbox_row(sessionmaker, message_id)
    assert row.acknowledged_at is not None and row.send_count == 1
    assert await ledger_records(sessionmaker, payload.case_id) == 1


async def test_a_message_redis_lost_is_handed_over_again_and_applied_once(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    await drain(sessionmaker, queue)
    settings = ServiceSettings()
    payload = determination()
    message_id = await stage(sessionmaker, payload)
    relay = relay_for(sessionmaker, queue, RELAY_RESEND_AFTER_SECONDS=2)
    await relay.relay_pending()

    # Redis loses the job (a restart without persistence, or FLUSHALL) before any worker ran.
    lost = job_id(settings, message_id, "registry")
    await queue.delete(job_key_prefix + lost)
    await queue.zrem(queue_name(settings, "registry"), lost)
    assert await run_worker("registry", queue) == 0
    assert await ledger_records(sessionmaker, payload.case_id) == 0

    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "UPDATE review.outbox_message SET sent_at = sent_at - interval '1 minute' WHERE message_id = :id"
            ),
            {"id": message_id},
        )
    # The sweep also settles other tests' rows; what matters is that ours went out again.
    _, resent = await relay.sweep_sent()
    assert resent >= 1
    await run_worker("registry", queue)
    assert await ledger_records(sessionmaker, payload.case_id) == 1
    assert (await outbox_row(sessionmaker, message_id)).send_count == 2


async def test_a_message_that_breaks_its_contract_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    settings = ServiceSettings()
    poison_id = f"{queue_name(settings, 'registry')}:poison:{uuid.uuid4()}"
    await queue.enqueue_job(
        DeterminationRecorded.message_type,
        {
            "message_id": str(uuid.uuid4()),
            "type": "determination.recorded",
            "payload": {"case_id": "x"},
        },
        _job_id=poison_id,
        _queue_name=queue_name(settings, "registry"),
    )
    assert await run_worker("registry", queue) == 1
    async with sessionmaker() as session:
        dead = (
            await session.execute(
                text(
                    "SELECT message_type, error, attempts FROM registry.dead_letter WHERE job_id = :id"
                ),
                {"id": poison_id},
            )
        ).one()
    assert dead.message_type == "determination.recorded"
    assert dead.error.startswith("PoisonMessage") and dead.attempts == 1


async def test_a_message_whose_job_arq_gave_up_is_handed_over_again_and_applied_once(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    """FLUSHALL between a worker's poll and its run (F3): the worker finds the job's definition
    gone, and arq fails the job with a result ("job expired"). A result used to count as "the
    consumer took it": the message was lost."""
    await drain(sessionmaker, queue)
    settings = ServiceSettings()
    payload = determination()
    message_id = await stage(sessionmaker, payload)
    relay = relay_for(sessionmaker, queue)
    await relay.relay_pending()

    expired = job_id(settings, message_id, "registry")
    await queue.delete(job_key_prefix + expired)  # the queue still names it
    await run_worker("registry", queue)
    assert await queue.exists(result_key_prefix + expired), "arq kept a failure result"
    assert await ledger_records(sessionmaker, payload.case_id) == 0

    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "UPDATE review.outbox_message SET sent_at = sent_at - interval '5 seconds' "
                "WHERE message_id = :id"
            ),
            {"id": message_id},
        )
    _, resent = await relay.sweep_sent()
    assert resent >= 1
    assert (await outbox_row(sessionmaker, message_id)).acknowledged_at is None
    await run_worker("registry", queue)
    assert await ledger_records(sessionmaker, payload.case_id) == 1
    assert (await outbox_row(sessionmaker, message_id)).send_count == 2


async def test_a_message_arq_gave_up_on_too_often_is_left_for_an_operator(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    """A handler that kills its worker at every try exhausts arq's tries each time it is handed
    over: after MAX_SENDS the message stays unacknowledged (and logged) instead of crashing
    workers for ever."""
    await drain(sessionmaker, queue)
    settings = ServiceSettings()
    payload = determination()
    message_id = await stage(sessionmaker, payload)
    relay = relay_for(sessionmaker, queue)
    await relay.relay_pending()
    expired = job_id(settings, message_id, "registry")
    await queue.delete(job_key_prefix + expired)
    await run_worker("registry", queue)
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "UPDATE review.outbox_message SET sent_at = sent_at - interval '5 seconds', "
                "send_count = :sends WHERE message_id = :id"
            ),
            {"id": message_id, "sends": MAX_SENDS},
        )
    await relay.sweep_sent()
    row = await outbox_row(sessionmaker, message_id)
    assert row.send_count == MAX_SENDS and row.acknowledged_at is None
    assert await queue.exists(result_key_prefix + expired)
