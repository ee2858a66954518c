"""The Redis rate limiter: a bucket lets its burst through and then refuses with the exact wait,
buckets do not share budgets, looking counts nothing, and a Redis that does not answer lets
requests through rather than failing them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool

from shared import ratelimit
from shared.errors import Unauthenticated
from shared.ratelimit import Rate, RateLimiter, authenticate_throttled
from tests.conftest import RUN_ID


@pytest.fixture
def limiter(queue: ArqRedis) -> RateLimiter:
    # Under the run's prefix, so the queue fixture's teardown removes the buckets.
    return RateLimiter(redis=queue, namespace=f"test-{RUN_ID}:limiter-{uuid.uuid4().hex[:6]}")


@pytest.fixture
async def dead_redis() -> AsyncIterator[ArqRedis]:
    # Port 1: nothing listens there, so every connection is refused at once.
    redis = ArqRedis(connection_pool=ConnectionPool.from_url("redis://127.0.0.1:1/0"))
    yield redis
    await redis.aclose()


async def test_a_burst_up_to_the_rate_passes_then_the_next_waits_one_interval(
    limiter: RateLimiter,
) -> None:
    rate = Rate.per_minute(6)  # one place every 10 s
    verdicts = [await limiter.hit("client", subject="a", rate=rate) for _ in range(7)]

    assert [verdict.allowed for verdict in verdicts] == [True] * 6 + [False]
    assert 9.0 < verdicts[-1].retry_after_seconds <= 10.0
    assert verdicts[-1].retry_after_header == "10"


async def test_a_refused_request_takes_no_place(limiter: RateLimiter) -> None:
    rate = Rate.per_minute(2)
    for _ in range(2):
        assert (await limiter.hit("client", subject="a", rate=rate)).allowed
    waits = [(await limiter.hit("client", subject="a", rate=rate)).retry_after_seconds]
    waits += [(await limiter.hit("client", subject="a", rate=rate)).retry_after_seconds]
    # Hammering while refused does not push the next place further away.
    assert waits[1] <= waits[0]


async def test_subjects_and_buckets_have_their_own_budgets(limiter: RateLimiter) -> None:
    rate = Rate.per_minute(1)
    assert (await limiter.hit("client", subject="a", rate=rate)).allowed
    assert not (await limiter.hit("client", subject="a", rate=rate)).allowed
    assert (await limiter.hit("client", subject="b", rate=rate)).allowed
    assert (await limiter.hit("other-bucket", subject="a", rate=rate)).allowed


async def test_peeking_counts_nothing(limiter: RateLimiter) -> None:
    rate = Rate.per_minute(2)
    for _ in range(5):
        assert (await limiter.peek("failures", subject="a", rate=rate)).allowed
    assert (await limiter.hit("failures", subject="a", rate=rate)).allowed
    assert (await limiter.hit("failures", subject="a", rate=rate)).allowed
    assert not (await limiter.peek("failures", subject="a", rate=rate)).allowed


async def test_the_place_comes_back_after_the_interval(limiter: RateLimiter) -> None:
    rate = Rate(count=1, period_seconds=0.2)
    assert (await limiter.hit("client", subject="a", rate=rate)).allowed
    assert not (await limiter.hit("client", subject="a", rate=rate)).allowed
    await asyncio.sleep(0.25)
    assert (await limiter.hit("client", subject="a", rate=rate)).allowed


async def test_two_limiters_on_one_redis_share_the_budget(queue: ArqRedis) -> None:
    """Two API replicas: each has its own limiter object, the counts are Redis's."""
    namespace = f"test-{RUN_ID}:limiter-{uuid.uuid4().hex[:6]}"
    replicas = [RateLimiter(redis=queue, namespace=namespace) for _ in range(2)]
    rate = Rate.per_minute(4)
    verdicts = [await replicas[n % 2].hit("client", subject="a", rate=rate) for n in range(6)]
    assert [verdict.allowed for verdict in verdicts] == [True] * 4 + [False] * 2


class RecordingLogger:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))


async def test_a_dead_redis_lets_requests_through_and_is_logged_once(
    dead_redis: ArqRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingLogger()
    monkeypatch.setattr(ratelimit, "logger", recorder)
    limiter = RateLimiter(redis=dead_redis, namespace="unreachable")
    rate = Rate.per_minute(1)

    started = time.monotonic()
    verdicts = [await limiter.hit("client", subject="a", rate=rate) for _ in range(5)]

    assert all(verdict.allowed for verdict in verdicts)
    assert time.monotonic() - started < ratelimit.REDIS_TIMEOUT_SECONDS * 2
    # Redis is tried once, then left alone for a while: one warning, not one per request.
    assert [event for event, _ in recorder.warnings] == [
        "rate limiter unavailable; requests pass unlimited"
    ]
    assert recorder.warnings[0][1]["error_type"]


async def test_an_address_that_keeps_failing_is_refused_before_it_is_checked(
    limiter: RateLimiter,
) -> None:
    failures = Rate.per_minute(3)
    checked = 0

    async def wrong_credential() -> str:
        nonlocal checked
        checked += 1
        raise Unauthenticated("The credential is not valid.")

    async def right_credential() -> str:
        nonlocal checked
        checked += 1
        return "client"

    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await authenticate_throttled(
                wrong_credential, limiter=limiter, address="10.0.0.1", failures=failures
            )
    with pytest.raises(ratelimit.TooManyRequests) as refused:
        await authenticate_throttled(
            right_credential, limiter=limiter, address="10.0.0.1", failures=failures
        )
    assert checked == 3  # the fourth attempt was not even looked at
    assert refused.value.headers["Retry-After"] == "20"
    # Another address, and successes, are not held back.
    for _ in range(5):
        assert (
            await authenticate_throttled(
                right_credential, limiter=limiter, address="10.0.0.2", failures=failures
            )
            == "client"
        )


async def test_a_late_answer_lets_one_request_through_but_keeps_the_limiter_on(
    limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the S4 figure: a flooded process answers everything late, its own Redis calls
    included. Had a late answer suspended the limiter, the flood would have switched off the
    limit meant to stop it (the abuser was never refused)."""
    rate = Rate.per_minute(2)
    assert all([(await limiter.hit("client", subject="a", rate=rate)).allowed for _ in range(2)])
    monkeypatch.setattr(ratelimit, "REDIS_TIMEOUT_SECONDS", 0)
    assert (await limiter.hit("client", subject="a", rate=rate)).allowed  # late: passes
    monkeypatch.undo()
    assert not (await limiter.hit("client", subject="a", rate=rate)).allowed  # still limited
