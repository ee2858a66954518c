"""F8: a bad network between the services and their servers. Every PostgreSQL and Redis
connection of the stack goes through the tests' TCP proxy (tests/faults/proxy.py), which adds
latency to every chunk, holds each connection to a bandwidth, and now and then resets one in
the middle of whatever it was carrying (a statement, a COMMIT, a job hand-over, a poll).

No partial or doubled writes: every acknowledged report has its one row, case and status
round trip, and no report is stored twice; every refusal is a problem+json 503; and every
attempt's time, p99 included, stays within what the configured timeouts allow."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.bench.figures import percentile
from tests.faults.checker import Portal, assert_exactly_once, settle
from tests.faults.proxy import FaultProxy
from tests.stack import RunningStack, isolated_stack, server_url

pytestmark = pytest.mark.e2e
REPORTS = 60
STATEMENT_TIMEOUT_SECONDS = 5
# The longest a request may take by the stack's configured timeouts: one statement's timeout
# plus the pool's wait for a connection (shared/db.py, 10 s).
REQUEST_BOUND_SECONDS = STATEMENT_TIMEOUT_SECONDS + 10


def degrade(proxy: FaultProxy) -> None:
    proxy.latency_seconds = 0.01
    proxy.bytes_per_second = 256 * 1024
    proxy.reset_probability = 0.002


@pytest.fixture(scope="module")
def proxies() -> Iterator[tuple[FaultProxy, FaultProxy]]:
    database = httpx.URL(server_url())
    redis = httpx.URL(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    database_proxy = FaultProxy(database.host, database.port or 5432, seed=8).start()
    redis_proxy = FaultProxy(redis.host, redis.port or 6379, seed=9).start()
    try:
        yield database_proxy, redis_proxy
    finally:
        database_proxy.stop()
        redis_proxy.stop()


@pytest.fixture(scope="module")
def degraded_stack(
    tmp_path_factory: pytest.TempPathFactory, proxies: tuple[FaultProxy, FaultProxy]
) -> Iterator[RunningStack]:
    database_proxy, redis_proxy = proxies
    with isolated_stack(
        label="faults_f8",
        data_dir=tmp_path_factory.mktemp("faults_f8"),
        route_database=database_proxy.url_for,
        redis_url=redis_proxy.url_for(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"),
        extra_env={
            "INTAKE_RATE_LIMIT_PER_MINUTE": "100000",
            "DATABASE_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_SECONDS * 1000),
            # A worker whose Redis connection was reset leaves its jobs to be rerun after
            # job_timeout + 10 s: short here, for the test's time.
            "JOB_TIMEOUT_SECONDS": "3",
            "RELAY_RESEND_AFTER_SECONDS": "5",
        },
    ) as stack:
        yield stack


async def test_latency_bandwidth_and_resets_write_nothing_partly_or_twice(
    degraded_stack: RunningStack, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    database_proxy, redis_proxy = proxies
    portal = Portal(
        degraded_stack.urls["intake"],
        degraded_stack.tokens["portal_health"],
        request_timeout_seconds=REQUEST_BOUND_SECONDS + 5,
    )
    for proxy in proxies:
        degrade(proxy)
    try:
        await portal.send(REPORTS, concurrency=8)
    finally:
        for proxy in proxies:
            proxy.calm()
    calm = time.monotonic()

    figures = await settle(degraded_stack.database_url, portal.submissions, since=calm)
    assert_exactly_once(figures, label="F8 latency, bandwidth, resets", portal=portal)
    p50, p99 = percentile(portal.latencies, 0.5), percentile(portal.latencies, 0.99)
    print(
        f"F8 attempts p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (bound "
        f"{REQUEST_BOUND_SECONDS} s); resets: PostgreSQL {database_proxy.counts.resets}, "
        f"Redis {redis_proxy.counts.resets}"
    )
    answers = portal.answers()
    assert not {"500", "ReadTimeout"} & set(answers), answers
    assert figures.acknowledged == figures.submitted, answers
    assert max(portal.latencies) <= REQUEST_BOUND_SECONDS
    assert database_proxy.counts.resets + redis_proxy.counts.resets > 0, "no fault happened"
