"""The fault figures of `make bench` (issue 7): the fault tests of tests/faults/ at N = 10,000.

Each figure starts a stack of its own (the faults stop its processes, its Redis or its links),
sends N reports from one portal under an Idempotency-Key each, breaks something a quarter of
the way in, and counts with tests/faults/checker.py once everything is quiet: submitted,
acknowledged, stored, lost, doubled, seconds to quiescence. The value is lost + doubled (the
target is 0); the detail carries the rest. FAULT_FIGURE_REPORTS sets N (10,000 by default).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from shared.messages import SERVICES
from shared.settings import to_plain_url
from tests.faults.checker import Figures, Portal, settle
from tests.faults.proxy import FaultProxy
from tests.faults.servers import PrivateRedis
from tests.stack import RunningStack, isolated_stack, server_url

if TYPE_CHECKING:  # tests.bench.figures imports this module for its FIGURES
    from tests.bench.figures import BenchContext, Figure

CONCURRENCY = 32
# Redis or PostgreSQL away, or the links degraded, for this long.
DOWN_SECONDS = 5.0
DEGRADED_SECONDS = 60.0
QUIESCENCE_LIMIT_SECONDS = 900.0
UNLIMITED = {
    "INTAKE_RATE_LIMIT_PER_MINUTE": "100000000",
    "REVIEW_RATE_LIMIT_PER_MINUTE": "100000000",
    "REGISTRY_RATE_LIMIT_PER_MINUTE": "100000000",
    "LOG_LEVEL": "WARNING",
}


def reports() -> int:
    return int(os.environ.get("FAULT_FIGURE_REPORTS", "10000"))


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@contextmanager
def fault_stack(label: str, **options: Any) -> Iterator[RunningStack]:
    data_dir = Path(".data") / "bench" / f"{label}-{uuid.uuid4().hex[:8]}"
    data_dir.mkdir(parents=True, exist_ok=True)
    extra_env = {**UNLIMITED, **options.pop("extra_env", {})}
    with isolated_stack(label=label, data_dir=data_dir, extra_env=extra_env, **options) as stack:
        yield stack


async def run_in(
    stack: AbstractContextManager[RunningStack],
    body: Callable[[RunningStack], Awaitable[tuple[Figures, str]]],
) -> tuple[Figures, str]:
    """`body` on a stack started (and stopped) off the event loop: both are synchronous."""
    running = await asyncio.to_thread(stack.__enter__)
    try:
        return await body(running)
    finally:
        await asyncio.to_thread(stack.__exit__, None, None, None)


async def burst_with_fault(
    running: RunningStack,
    fault: Callable[[], None],
    *,
    recover: Callable[[], None] | None = None,
    down_seconds: float = DOWN_SECONDS,
) -> tuple[Portal, Figures]:
    """N reports; `fault` a quarter of the way in, `recover` `down_seconds` later; the figures
    once quiet, quiescence counted from the recovery."""
    portal = Portal(running.urls["intake"], running.tokens["portal_health"], retry_for_seconds=120)
    count = reports()
    burst = portal.start(count, concurrency=CONCURRENCY)
    await portal.acknowledged(count // 4)
    await asyncio.to_thread(fault)
    if recover is not None:
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(recover)
    back = time.monotonic()
    await burst
    # Quiescence is counted from the fault's end; the rest of the burst is sent after it.
    portal.sent_after_fault_seconds = time.monotonic() - back
    figures = await settle(
        running.database_url,
        portal.submissions,
        since=back,
        within=QUIESCENCE_LIMIT_SECONDS,
        poll_seconds=2.0,
    )
    if figures.lost:
        # Still on their way, or gone? What the queues and outboxes hold at the limit.
        portal.backlog = await backlog(running)
    return portal, figures


async def backlog(running: RunningStack) -> str:
    """Jobs waiting in each service's queue and outbox rows not yet taken (sent but with no
    arq result yet, or never sent), and dead letters: where a report missing at the
    quiescence limit can still be."""
    from arq.connections import RedisSettings, create_pool

    redis = await create_pool(RedisSettings.from_dsn(running.env["REDIS_URL"]))
    connection = await asyncpg.connect(to_plain_url(running.database_url))
    parts: list[str] = []
    try:
        for service in SERVICES:
            queued = await redis.zcard(f"{running.env['QUEUE_PREFIX']}:{service}")
            untaken = await connection.fetchval(
                f"SELECT count(*) FROM {service}.outbox_message WHERE acknowledged_at IS NULL"
            )
            dead = await connection.fetchval(f"SELECT count(*) FROM {service}.dead_letter")
            parts.append(
                f"{service} {queued} queued, {untaken} in the outbox untaken, {dead} dead letters"
            )
    finally:
        await connection.close()
        await redis.aclose()
    return "; ".join(parts)


def as_figure(results: list[tuple[Figures, str]], *, extra: str = "") -> Figure:
    from tests.bench.figures import Figure

    return Figure(
        value=float(sum(figures.lost + figures.doubled for figures, _ in results)),
        target="0 lost, 0 doubled",
        unit="reports lost + doubled",
        detail="; ".join(f"{label}: {figures.line()}" for figures, label in results) + extra,
    )


def answers_seen(portal: Portal) -> str:
    counted = portal.answers()
    answers = ", ".join(f"{count} x {answer}" for answer, count in counted.most_common())
    seen = f"{answers}; the burst went on {portal.sent_after_fault_seconds:.1f} s after the fault"
    if portal.backlog:
        seen += f"; at the quiescence limit: {portal.backlog}"
    return seen


async def figure_f2(context: BenchContext) -> Figure:
    """F2: SIGTERM to every process (APIs, workers, relays) a quarter of the way through N
    reports, then everything started again: lost + doubled."""

    def restart_everything(running: RunningStack) -> None:
        running.stack.stop()
        for name in running.stack.names:
            running.stack.restart(name)
        running.stack.wait_ready(timeout=120)

    async def body(running: RunningStack) -> tuple[Figures, str]:
        portal, figures = await burst_with_fault(running, lambda: restart_everything(running))
        return figures, f"SIGTERM to all (answers {answers_seen(portal)})"

    return as_figure([await run_in(fault_stack("bench_f2", api_processes=2, workers=2), body)])


async def figure_f3(context: BenchContext) -> Figure:
    """F3: a private Redis killed with SIGKILL (restarted on its AOF) and, separately, emptied
    with FLUSHALL, a quarter of the way through N reports each: lost + doubled; quiescence
    counted from Redis returning (target 60 s)."""
    server = PrivateRedis(Path(".data") / "bench" / f"redis-{uuid.uuid4().hex[:8]}")
    server.start()
    results: list[tuple[Figures, str]] = []
    try:
        stack = fault_stack("bench_f3", redis_url=server.url)

        async def body(running: RunningStack) -> tuple[Figures, str]:
            portal, killed = await burst_with_fault(running, server.kill, recover=server.start)
            results.append((killed, f"Redis SIGKILL (answers {answers_seen(portal)})"))
            portal, flushed = await burst_with_fault(running, server.flushall)
            return flushed, f"FLUSHALL (answers {answers_seen(portal)})"

        results.append(await run_in(stack, body))
    finally:
        server.stop()
    slowest = max(figures.seconds_to_quiescence for figures, _ in results)
    return as_figure(results, extra=f"; slowest quiescence {slowest:.1f} s (target <= 60 s)")


def database_proxy() -> FaultProxy:
    upstream = httpx.URL(server_url())
    return FaultProxy(upstream.host, upstream.port or 5432).start()


async def figure_f4(context: BenchContext) -> Figure:
    """F4: PostgreSQL unreachable for 5 s (every connection reset, new ones refused) a quarter
    of the way through N reports: lost + doubled; no 500 allowed among the answers."""
    proxy = database_proxy()
    try:
        stack = fault_stack("bench_f4", route_database=proxy.url_for)

        async def body(running: RunningStack) -> tuple[Figures, str]:
            portal, figures = await burst_with_fault(running, proxy.cut, recover=proxy.restore)
            return figures, f"PostgreSQL away {DOWN_SECONDS:.0f} s (answers {answers_seen(portal)})"

        return as_figure([await run_in(stack, body)])
    finally:
        proxy.stop()


async def figure_f8(context: BenchContext) -> Figure:
    """F8: 10 ms per chunk, 256 KiB/s per connection and a reset per 500 chunks on every
    PostgreSQL and Redis link for 60 s of a burst of N reports: lost + doubled, and the
    attempts' p50/p99 against the configured bound (statement timeout 15 s + pool wait 10 s)."""
    from tests.bench.figures import percentile

    database = database_proxy()
    redis = httpx.URL(redis_url())
    redis_proxy = FaultProxy(redis.host, redis.port or 6379).start()
    proxies = (database, redis_proxy)

    def degrade() -> None:
        for proxy in proxies:
            proxy.latency_seconds = 0.01
            proxy.bytes_per_second = 256 * 1024
            proxy.reset_probability = 0.002

    def calm() -> None:
        for proxy in proxies:
            proxy.calm()

    try:
        stack = fault_stack(
            "bench_f8", route_database=database.url_for, redis_url=redis_proxy.url_for(redis_url())
        )

        async def body(running: RunningStack) -> tuple[Figures, str]:
            portal, figures = await burst_with_fault(
                running, degrade, recover=calm, down_seconds=DEGRADED_SECONDS
            )
            p50, p99 = percentile(portal.latencies, 0.5), percentile(portal.latencies, 0.99)
            return figures, (
                f"links degraded {DEGRADED_SECONDS:.0f} s (attempts p50 {p50 * 1000:.0f} ms, "
                f"p99 {p99 * 1000:.0f} ms, max {max(portal.latencies):.1f} s vs bound 25 s; "
                f"resets PostgreSQL {database.counts.resets}, Redis {redis_proxy.counts.resets}; "
                f"answers {answers_seen(portal)})"
            )

        return as_figure([await run_in(stack, body)])
    finally:
        for proxy in proxies:
            proxy.stop()
