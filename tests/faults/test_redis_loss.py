"""F3: Redis killed with SIGKILL mid-burst (restarted on its append-only file, which may lack
the last second), and separately emptied with FLUSHALL mid-burst. Intake keeps acknowledging
(reports and their messages are in PostgreSQL); once Redis is back the outbox relay hands over
what it could not, and its sweep hands over again what Redis lost. Every acknowledged report
is carried through the flow exactly once within 60 s of Redis returning.

The stack runs on a private redis-server (tests/faults/servers.py): the run's shared Redis is
never touched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from tests.faults.checker import Portal, assert_exactly_once, settle
from tests.faults.servers import PrivateRedis
from tests.stack import RunningStack, isolated_stack

pytestmark = pytest.mark.e2e
REPORTS = 60
# The promise: everything processed within this long of Redis returning.
QUIESCENT_WITHIN_SECONDS = 60


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis_stack(
    tmp_path_factory: pytest.TempPathFactory, private_redis: PrivateRedis
) -> Iterator[RunningStack]:
    with isolated_stack(
        label="faults_f3",
        data_dir=tmp_path_factory.mktemp("faults_f3"),
        redis_url=private_redis.url,
        extra_env={
            "INTAKE_RATE_LIMIT_PER_MINUTE": "100000",
            # Resend what Redis lost after 5 s rather than 30 s: the test's time.
            "RELAY_RESEND_AFTER_SECONDS": "5",
        },
    ) as stack:
        yield stack


async def burst_through(
    running: RunningStack, fault: Callable[[], None], *, recover: Callable[[], None]
) -> tuple[Portal, float]:
    """A burst with `fault` a quarter of the way in and `recover` two seconds later; returns
    the portal and the moment Redis was back."""
    portal = Portal(running.urls["intake"], running.tokens["portal_health"])
    burst = portal.start(REPORTS, concurrency=8)
    await portal.acknowledged(REPORTS // 4)
    await asyncio.to_thread(fault)
    await asyncio.sleep(2)
    await asyncio.to_thread(recover)
    back = time.monotonic()
    await burst
    return portal, back


async def test_redis_killed_mid_burst_loses_nothing(
    redis_stack: RunningStack, private_redis: PrivateRedis
) -> None:
    portal, back = await burst_through(redis_stack, private_redis.kill, recover=private_redis.start)
    figures = await settle(
        redis_stack.database_url, portal.submissions, since=back, within=QUIESCENT_WITHIN_SECONDS
    )
    assert_exactly_once(figures, label="F3 Redis killed (SIGKILL)", portal=portal)
    assert figures.acknowledged == figures.submitted, portal.answers()
    assert figures.seconds_to_quiescence <= QUIESCENT_WITHIN_SECONDS


async def test_redis_flushed_mid_burst_loses_nothing(
    redis_stack: RunningStack, private_redis: PrivateRedis
) -> None:
    portal, back = await burst_through(redis_stack, private_redis.flushall, recover=lambda: None)
    figures = await settle(
        redis_stack.database_url, portal.submissions, since=back, within=QUIESCENT_WITHIN_SECONDS
    )
    assert_exactly_once(figures, label="F3 Redis emptied (FLUSHALL)", portal=portal)
    assert figures.acknowledged == figures.submitted, portal.answers()
    assert figures.seconds_to_quiescence <= QUIESCENT_WITHIN_SECONDS
