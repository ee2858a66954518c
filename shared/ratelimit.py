"""Rate limits kept in Redis, so every replica of an API counts against the same budget.

Each limit is a GCRA bucket (the generic cell rate algorithm): one Redis key per bucket holds
the "theoretical arrival time" of the next request, and one Lua script reads and moves it
atomically, on Redis's own clock, so replicas with drifting clocks still agree. A rate of N per
period lets N requests through at once and then one every period/N; the answer to a refused
request says exactly when the next one will pass.

The limiter fails open: if Redis does not answer within a fraction of a second the request is
let through and the outage is logged, and Redis is left alone for a few seconds so a dead
server does not add its timeout to every request. Losing the limiter for a while is better than
losing the API.

`authenticate_throttled` wraps any credential check so that an address which keeps failing
authentication is refused with 429 before its next attempt is even looked at.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.errors import ProblemError, Unauthenticated

logger = structlog.get_logger(__name__)

T = TypeVar("T")

# How long one limiter call may take before the request goes ahead without it, and how long
# an unreachable Redis is then left alone before the limiter tries it again.
REDIS_TIMEOUT_SECONDS = 1.0
SUSPEND_AFTER_FAILURE_SECONDS = 5.0

# KEYS[1]: the bucket. ARGV[1]: emission interval in microseconds (period / N). ARGV[2]: burst
# (N). ARGV[3]: "1" to take a place when one is free, "0" only to look. Returns 0 when a request
# may pass now (and, when taking, records it), else the microseconds until one may.
GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
    tat = now
end
local wait = tat - tolerance - now
if wait > 0 then
    return wait
end
if ARGV[3] == '1' then
    local next_tat = tat + interval
    redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX',
        math.ceil((next_tat - now) / 1000))
end
return 0
"""


@dataclass(frozen=True)
class Rate:
    """N requests per period: bursts of up to N, refilled evenly."""

    count: int
    period_seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.period_seconds <= 0:
            raise ValueError("a rate needs a positive count and period")

    @classmethod
    def per_minute(cls, count: int) -> Rate:
        return cls(count=count, period_seconds=60.0)

    @property
    def interval_microseconds(self) -> int:
        return max(1, round(self.period_seconds * 1_000_000 / self.count))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_seconds: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """Retry-After in whole seconds, never 0: a client told 0 would retry at once."""
        return str(max(1, math.ceil(self.retry_after_seconds)))


ALLOWED = Verdict(allowed=True)


class TooManyRequests(ProblemError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"


def too_many_requests(verdict: Verdict, *, detail: str) -> TooManyRequests:
    return TooManyRequests(
        f"{detail} Retry after {verdict.retry_after_header} s.",
        headers={"Retry-After": verdict.retry_after_header},
    )


class RateLimiter:
    """Buckets in one Redis, under a namespace (the stack's prefix and the service)."""

    def __init__(self, *, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self._script = redis.register_script(GCRA_SCRIPT)
        self._suspended_until = 0.0
        self._quiet_until = 0.0  # no warning about a late answer before this

    def bucket_key(self, bucket: str, subject: str) -> str:
        return f"{self.namespace}:ratelimit:{bucket}:{subject}"

    async def hit(self, bucket: str, *, subject: str, rate: Rate) -> Verdict:
        """Count one request against the bucket if it may pass; say whether it may."""
        return await self._ask(bucket, subject=subject, rate=rate, take=True)

    async def peek(self, bucket: str, *, subject: str, rate: Rate) -> Verdict:
        """Whether one more request would pass, counting nothing."""
        return await self._ask(bucket, subject=subject, rate=rate, take=False)

    async def enforce(self, bucket: str, *, subject: str, rate: Rate, detail: str) -> None:
        """Count one request, or refuse it with 429 and Retry-After."""
        verdict = await self.hit(bucket, subject=subject, rate=rate)
        if not verdict.allowed:
            raise too_many_requests(verdict, detail=detail)

    async def _ask(self, bucket: str, *, subject: str, rate: Rate, take: bool) -> Verdict:
        loop = asyncio.get_running_loop()
        if loop.time() < self._suspended_until:
            return ALLOWED
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                wait_microseconds = await self._script(
                    keys=[self.bucket_key(bucket, subject)],
                    args=[rate.interval_microseconds, rate.count, 1 if take else 0],
                )
        except TimeoutError:
            # Late, not gone: a process flooded with requests answers everything late, its
            # own Redis calls included. This request passes, but the limiter stays on: were
            # it suspended here, a flood would switch off the very limit that stops it.
            if loop.time() >= self._quiet_until:
                self._quiet_until = loop.time() + SUSPEND_AFTER_FAILURE_SECONDS
                logger.warning(
                    "rate limiter late; this request passes unlimited",
                    timeout_seconds=REDIS_TIMEOUT_SECONDS,
                )
            return ALLOWED
        except (RedisError, OSError, RuntimeError) as exc:
            # RuntimeError: redis-py's reconnect to a Redis that just came back can meet the
            # old, closed transport ("unable to perform operation ... handler is closed").
            self._suspended_until = loop.time() + SUSPEND_AFTER_FAILURE_SECONDS
            logger.warning(
                "rate limiter unavailable; requests pass unlimited",
                error_type=type(exc).__name__,
                retry_in_seconds=SUSPEND_AFTER_FAILURE_SECONDS,
            )
            return ALLOWED
        if int(wait_microseconds) <= 0:
            return ALLOWED
        return Verdict(allowed=False, retry_after_seconds=int(wait_microseconds) / 1_000_000)


AUTH_FAILURES_BUCKET = "auth-failures"


async def authenticate_throttled(
    authenticate: Callable[[], Awaitable[T]],
    *,
    limiter: RateLimiter,
    address: str,
    failures: Rate,
) -> T:
    """Run a credential check for a client address that has not failed too often lately.

    An address over its failure rate is refused with 429 before its credential is looked at,
    so guessing costs the guesser time and the database nothing. Every 401 counts, including a
    missing credential.
    """
    verdict = await limiter.peek(AUTH_FAILURES_BUCKET, subject=address, rate=failures)
    if not verdict.allowed:
        raise too_many_requests(
            verdict, detail="Too many failed authentication attempts from this address."
        )
    try:
        return await authenticate()
    except Unauthenticated:
        await limiter.hit(AUTH_FAILURES_BUCKET, subject=address, rate=failures)
        raise


CALLER_REQUESTS_BUCKET = "caller-requests"


async def authenticate_within_limits(
    authenticate: Callable[[], Awaitable[T]],
    *,
    limiter: RateLimiter,
    address: str,
    caller_of: Callable[[T], str],
    requests: Rate,
    failures: Rate,
) -> T:
    """Who is calling, held to both limits: the address's failed attempts first (429 before the
    credential is looked at), then, once the caller has proved who it is, its own request rate.
    Counting only proven callers means nobody can spend another's budget by sending its key id
    with a wrong secret. `caller_of` names the budget: a client or a person, not one secret,
    so a rotation keeps it."""
    caller = await authenticate_throttled(
        authenticate, limiter=limiter, address=address, failures=failures
    )
    await limiter.enforce(
        CALLER_REQUESTS_BUCKET,
        subject=caller_of(caller),
        rate=requests,
        detail="This caller has sent too many requests.",
    )
    return caller
