"""F4: PostgreSQL gone mid-burst, then back. The stack reaches the database through the tests'
TCP proxy (tests/faults/proxy.py), which resets every open connection and refuses new ones, as
a server stopped immediately does (the machine's PostgreSQL itself is never stopped: every
test run shares it).

Every 2xx has its row; a request in flight or arriving while the database is away gets 503
problem+json with Retry-After, never a 500 or a trace; the portal's retries under the same
Idempotency-Key then get one report each; and the pools recover within 10 s of the database
returning."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import bearer, report_body
from tests.faults.checker import Portal, assert_exactly_once, assert_problem_json, settle
from tests.faults.proxy import FaultProxy
from tests.stack import RunningStack, isolated_stack, server_url

pytestmark = pytest.mark.e2e
REPORTS = 60
DOWN_SECONDS = 3.0
RECOVERED_WITHIN_SECONDS = 10.0


@pytest.fixture(scope="module")
def database_proxy() -> Iterator[FaultProxy]:
    upstream = httpx.URL(server_url())
    proxy = FaultProxy(upstream.host, upstream.port or 5432).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def proxied_stack(
    tmp_path_factory: pytest.TempPathFactory, database_proxy: FaultProxy
) -> Iterator[RunningStack]:
    with isolated_stack(
        label="faults_f4",
        data_dir=tmp_path_factory.mktemp("faults_f4"),
        route_database=database_proxy.url_for,
        extra_env={"INTAKE_RATE_LIMIT_PER_MINUTE": "100000", "RELAY_RESEND_AFTER_SECONDS": "5"},
    ) as stack:
        yield stack


async def seconds_until_served(running: RunningStack, *, within: float) -> float:
    """From now until a new report (a fresh key) gets its 202 and every API is ready."""
    started = time.monotonic()
    deadline = started + within + 20
    headers = {**bearer(running.tokens["portal_health"]), "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
        while time.monotonic() < deadline:
            try:
                answer = await http.post(
                    f"{running.urls['intake']}/v1/reports", json=report_body(), headers=headers
                )
                ready = [
                    (await http.get(f"{url}/readyz")).status_code for url in running.urls.values()
                ]
            except httpx.TransportError:
                answer, ready = None, []
            if answer is not None and answer.status_code == 202 and set(ready) == {200}:
                return time.monotonic() - started
            if answer is not None and answer.status_code != 202:
                assert_problem_json(answer)
            await asyncio.sleep(0.1)
    raise AssertionError("the services did not recover")


async def test_database_gone_mid_burst_answers_503_and_loses_nothing(
    proxied_stack: RunningStack, database_proxy: FaultProxy
) -> None:
    portal = Portal(proxied_stack.urls["intake"], proxied_stack.tokens["portal_health"])
    burst = portal.start(REPORTS, concurrency=8)
    await portal.acknowledged(REPORTS // 4)
    await asyncio.to_thread(database_proxy.cut)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(database_proxy.restore)
    back = time.monotonic()
    recovered = await seconds_until_served(proxied_stack, within=RECOVERED_WITHIN_SECONDS)
    await burst

    figures = await settle(proxied_stack.database_url, portal.submissions, since=back)
    assert_exactly_once(figures, label="F4 PostgreSQL gone for 3 s", portal=portal)
    print(f"F4 pools recovered {recovered:.1f} s after the database returned")
    answers = portal.answers()
    assert "503" in answers, answers  # the fault did meet requests
    assert not {"500", "ReadTimeout"} & set(answers), answers
    assert figures.acknowledged == figures.submitted, answers
    assert recovered <= RECOVERED_WITHIN_SECONDS
