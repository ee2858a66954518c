"""Helpers the tests share: in-process API clients, the message pump, and small factories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from arq.connections import ArqRedis
from arq.worker import Worker
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, create_sessionmaker
from shared.messages import SERVICES, Envelope, Service
from shared.outbox import OutboxRelay
from shared.queue import create_queue_pool, job_id, queue_name
from shared.settings import ServiceSettings


def test_sessionmaker() -> tuple[async_sessionmaker[AsyncSession], AsyncEngine]:
    engine = create_engine(ServiceSettings(), application_name="tests")
    return create_sessionmaker(engine), engine


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in-process, with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def worker_settings_of(service: Service) -> type:
    if service == "intake":
        from services.intake.worker import WorkerSettings as intake_settings

        return intake_settings
    if service == "review":
        from services.review.worker import WorkerSettings as review_settings

        return review_settings
    from services.registry.worker import WorkerSettings as registry_settings

    return registry_settings


async def relay_outboxes(sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis) -> int:
    settings = ServiceSettings()
    handed = 0
    for service in SERVICES:
        relay = OutboxRelay(
            service=service, sessionmaker=sessionmaker, redis=queue, settings=settings
        )
        handed += await relay.relay_pending()
    return handed


async def run_workers(service: Service, queue: ArqRedis, *, count: int) -> int:
    """Run `count` workers of one service at once until its queue is empty (each with its own
    engine and Redis connections, as separate processes would have); returns jobs completed by
    all. (Not on `queue`'s connections: a worker closes its pool when it stops, which would cut
    off the others still finishing their last jobs if they shared one.)"""

    async def one_worker() -> int:
        return await run_worker(service, await create_queue_pool(ServiceSettings()))

    done = await asyncio.gather(*(one_worker() for _ in range(count)))
    return sum(done)


async def run_worker(service: Service, queue: ArqRedis) -> int:
    """Run one service's worker until its queue is empty; returns jobs completed."""
    settings_class = worker_settings_of(service)
    options: dict[str, Any] = {
        key: value for key, value in vars(settings_class).items() if not key.startswith("__")
    }
    options.pop("redis_settings", None)
    options.pop("poll_delay", None)
    # Scheduled jobs are tested by calling them; here they would run at every burst start.
    options.pop("cron_jobs", None)
    worker = Worker(
        **options,
        redis_pool=queue,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
        ctx={"no_relay": True},
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker.jobs_complete + worker.jobs_failed


async def pump(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, *, rounds: int = 10
) -> None:
    """Move every staged message through relay and workers until the system is quiet."""
    for _ in range(rounds):
        handed = await relay_outboxes(sessionmaker, queue)
        processed = 0
        for service in SERVICES:
            processed += await run_worker(service, queue)
        if handed == 0 and processed == 0:
            return
    raise AssertionError("messages still moving after the pump's rounds")


async def count_rows(sessionmaker: async_sessionmaker[AsyncSession], table: str) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def deliver_again(
    queue: ArqRedis, envelope: Envelope, *, to: Service, copies: int = 1
) -> None:
    """The same message enqueued again under new job ids, as arq does once the first job's
    result has expired: the consumer must change nothing."""
    settings = ServiceSettings()
    for copy in range(copies):
        await queue.enqueue_job(
            envelope.type,
            envelope.model_dump(mode="json"),
            _job_id=f"{job_id(settings, envelope.message_id, to)}:again:{copy}",
            _queue_name=queue_name(settings, to),
        )
