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
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from arq.connections import create_pool
from arq.constants import in_progress_key_prefix
from arq.cron import CronJob
from arq.worker import Worker
from prometheus_client import start_http_server
from redis.exceptions import RedisError

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
ShutdownHook = Callable[[dict[str, Any]], Awaitable[None]]

# The port this process serves its metrics on, once it does.
_metrics_served: list[int] = []
# A worker that lost Redis is started again after this pause, doubling up to the cap.
RESTART_PAUSE_SECONDS = 0.5
RESTART_PAUSE_CAP_SECONDS = 5.0


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
        if settings.worker_metrics_port and not _metrics_served:
            # A thread of prometheus-client's own: scrapes never wait on the event loop. Once
            # per process: run_worker starts the worker again after a lost Redis.
            start_http_server(settings.worker_metrics_port)
            _metrics_served.append(settings.worker_metrics_port)
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


def run_worker(settings_cls: type, **overrides: Any) -> None:
    """Run a service's arq worker until SIGTERM or SIGINT, riding out a lost Redis.

    arq ends its worker at the first Redis error (a restart, a reset connection, a failover):
    its main loop raises and the process would exit. Here the worker is then closed (its jobs
    are cancelled and rerun later, as on SIGTERM; its relay and engine released) and started
    again in the same process after a short pause, until Redis answers. A stop signal ends it
    as `arq <settings>` would. `python -m shared.worker_main <settings path>` runs this.
    """
    asyncio.run(_run_until_stopped(settings_cls, overrides))


async def _run_until_stopped(settings_cls: type, overrides: dict[str, Any]) -> None:
    from arq.worker import create_worker

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    current: list[Worker] = []

    def on_signal(signum: signal.Signals) -> None:
        stopping.set()
        for worker in current:
            worker.handle_sig(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    pause = RESTART_PAUSE_SECONDS
    # Jobs a worker of ours was running when it lost Redis: their in-progress keys outlive it.
    abandoned: set[str] = set()
    while not stopping.is_set():
        worker = create_worker(settings_cls, **{**overrides, "handle_signals": False})
        _track_claims(worker)
        if abandoned and await _release_jobs(worker, abandoned):
            abandoned.clear()
        current[:] = [worker]
        main = asyncio.ensure_future(worker.main())
        worker.main_task = main
        started = loop.time()
        try:
            await main
            return  # a burst worker that emptied its queue
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise
        except (RedisError, OSError) as exc:
            logger.warning(
                "worker lost Redis; starting it again",
                error_type=type(exc).__name__,
                pause_seconds=pause,
            )
        finally:
            abandoned |= await _close(worker)
        if loop.time() - started > 60:
            pause = RESTART_PAUSE_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=pause)
        pause = min(pause * 2, RESTART_PAUSE_CAP_SECONDS)


async def _close(worker: Worker) -> set[str]:
    """arq's close, or, when Redis is away and it fails part way, what it would have done
    for us: the settings' on_shutdown (relay stopped, engine disposed) and the pool closed.
    Returns the ids of the jobs it was running if arq could not finish closing them."""
    try:
        await worker.close()
        return set()
    except (Exception, asyncio.CancelledError) as exc:
        # A job cancelled before arq's own handling began ends arq's gather with its
        # CancelledError: not ours, unless this task itself is being cancelled.
        task = asyncio.current_task()
        if isinstance(exc, asyncio.CancelledError) and task is not None and task.cancelling():
            raise
        logger.info("worker closed without Redis", error_type=type(exc).__name__)
    running = [job for job in worker.tasks.values() if not job.done()]
    if running:
        # Cancelled already (close began with that); let them unwind before the engine goes.
        await asyncio.wait(running, timeout=5)
    on_shutdown: ShutdownHook | None = worker.on_shutdown
    if on_shutdown is not None:
        await on_shutdown(worker.ctx)
    pool = worker._pool
    if pool is not None:
        with contextlib.suppress(Exception):
            await pool.aclose(close_connection_pool=True)
        worker._pool = None
    # Jobs being claimed when Redis went may have their in-progress key set with no task to
    # run them. Messages only: a rerun of a message is harmless (the inbox), of a cron job's
    # run perhaps not, and the next run comes by itself.
    claiming = {job for job in getattr(worker, CLAIMING, ()) if not job.startswith("cron:")}
    return set(worker.tasks) | claiming


CLAIMING = "_conduct_claiming"


def _track_claims(worker: Worker) -> None:
    """Remember which job ids the worker is claiming at any moment (arq's start_jobs sets
    their in-progress keys one by one), for _close."""
    start_jobs = worker.start_jobs

    async def tracked(job_ids: list[bytes]) -> None:
        setattr(worker, CLAIMING, [job_id.decode() for job_id in job_ids])
        await start_jobs(job_ids)
        setattr(worker, CLAIMING, [])

    worker.start_jobs = tracked  # type: ignore[method-assign]


async def _release_jobs(worker: Worker, job_ids: set[str]) -> bool:
    """Delete the in-progress keys of jobs an earlier worker of this process was running when
    it lost Redis, so they are rerun now. arq keeps such a key for the longest timeout of any
    of the worker's functions plus 10 s (ten minutes for intake's cron jobs); we know these
    jobs are no longer running. True once done, False while Redis is still away."""
    if worker.redis_settings is None:  # a worker on a pool of the caller's: not ours to do
        return True
    try:
        pool = await create_pool(worker.redis_settings)
    except (RedisError, OSError):
        return False
    try:
        await pool.delete(*(in_progress_key_prefix + job_id for job_id in job_ids))
    except (RedisError, OSError):
        return False
    finally:
        with contextlib.suppress(Exception):
            await pool.aclose(close_connection_pool=True)
    logger.info("jobs of a worker that lost Redis released for a rerun", count=len(job_ids))
    return True
