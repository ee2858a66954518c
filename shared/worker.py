"""The arq worker every service runs: its message consumers, the outbox relay beside them, and
the resources jobs reach through ctx.

`worker_settings(...)` returns the class arq's CLI loads (`arq services.review.worker.WorkerSettings`).
Jobs are JSON (never pickle), time out quickly so a killed worker's job is rerun soon, and
keep their results long enough for the relay to see that they were taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from arq.cron import CronJob
from prometheus_client import start_http_server

from shared.consumer import MessageHandler, WorkerResources, consumer_function
from shared.db import create_engine, create_sessionmaker
from shared.logging import configure_logging
from shared.messages import Service
from shared.outbox import OutboxRelay
from shared.queue import (
    RESULT_RETENTION_SECONDS,
    deserialize_job,
    queue_name,
    redis_settings,
    serialize_job,
)
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing, shutdown_tracing

logger = structlog.get_logger(__name__)

# Jobs one worker runs at once.
MAX_JOBS = 20

StartupHook = Callable[[dict[str, Any]], Awaitable[None]]


def worker_settings(
    *,
    service: Service,
    settings: ServiceSettings,
    handlers: Sequence[MessageHandler[Any]],
    cron_jobs: Sequence[CronJob] = (),
    run_relay: bool = True,
) -> type:
    """The WorkerSettings class for one service's arq worker."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        configure_logging(level=settings.log_level, json_lines=settings.log_json)
        configure_tracing(service=service, settings=settings)
        # Each of the MAX_JOBS jobs running at once holds one connection: a pool that keeps
        # fewer closes and reopens connections (and re-prepares statements) all through a burst.
        pool_size = max(settings.database_pool_size, MAX_JOBS)
        engine = create_engine(
            settings.model_copy(update={"database_pool_size": pool_size}),
            application_name=f"{service}-worker",
        )
        sessionmaker = create_sessionmaker(engine)
        ctx["engine"] = engine
        ctx["resources"] = WorkerResources(
            service=service, settings=settings, sessionmaker=sessionmaker
        )
        # Tests drive the relay themselves and pass no_relay in the worker's ctx.
        if run_relay and not ctx.get("no_relay"):
            relay = OutboxRelay(
                service=service, sessionmaker=sessionmaker, redis=ctx["redis"], settings=settings
            )
            ctx["relay_task"] = asyncio.create_task(relay.run(), name=f"{service}-outbox-relay")
        if settings.worker_metrics_port:
            # A thread of prometheus-client's own: scrapes never wait on the event loop.
            start_http_server(settings.worker_metrics_port)
        logger.info("worker started", service=service, queue=queue_name(settings, service))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        relay_task: asyncio.Task[None] | None = ctx.get("relay_task")
        if relay_task is not None:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
        engine = ctx.get("engine")
        if engine is not None:
            await engine.dispose()
        shutdown_tracing()

    attributes: dict[str, Any] = {
        "functions": [
            consumer_function(handler, timeout_seconds=settings.job_timeout_seconds)
            for handler in handlers
        ],
        # arq's cron job ids ("cron:<name>:<time>") are global to the Redis database: the queue's
        # name in each job's name keeps stacks sharing a Redis from suppressing each other's
        # runs, while within one stack the id still makes a run happen once across workers.
        "cron_jobs": [
            dataclasses.replace(job, name=f"{queue_name(settings, service)}:{job.name}")
            for job in cron_jobs
        ],
        "queue_name": queue_name(settings, service),
        "redis_settings": redis_settings(settings),
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "job_timeout": settings.job_timeout_seconds,
        # Our consumer dead-letters at delivery_attempts; arq's own cap sits just above it.
        "max_tries": settings.delivery_attempts + 1,
        "keep_result": RESULT_RETENTION_SECONDS,
        "max_jobs": MAX_JOBS,
        "poll_delay": settings.worker_poll_seconds,
        "health_check_interval": 10,
        "allow_abort_jobs": False,
    }
    return type(f"{service.capitalize()}WorkerSettings", (), attributes)
