"""Rate limits on intake over HTTP: a client over its rate gets 429 with Retry-After on every
replica, an address that keeps failing authentication gets 429 before its next credential is
looked at, and a Redis that is down slows nobody and refuses nothing."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.http import ServiceResources
from shared.ratelimit import RateLimiter
from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.support import (
    assert_problem,
    client_of,
    department_report_count,
    intake_client,
    running_app,
    unique_address,
)

pytestmark = pytest.mark.usefixtures("catalogue")


async def new_portal(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    department = unique_code("DEPT")
    return department, await create_client(sessionmaker, organisation_code=department)


def assert_too_many(response: httpx.Response) -> None:
    problem = assert_problem(response, 429)
    assert problem["code"] == "too-many-requests"
    assert int(response.headers["retry-after"]) >= 1


async def test_a_client_over_its_rate_gets_429_with_retry_after_and_nothing_is_stored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    _, neighbour = await new_portal(sessionmaker)
    async with intake_client(rate_limit_per_minute=3) as api:
        accepted = [
            await api.post("/v1/reports", json=report_body(), headers=bearer(token))
            for _ in range(3)
        ]
        # Tried: a fourth report, then a status read, within the same minute.
        refused = await api.post("/v1/reports", json=report_body(), headers=bearer(token))
        read = await api.get(accepted[0].json()["status_url"], headers=bearer(token))
        other = await api.post("/v1/reports", json=report_body(), headers=bearer(neighbour))

    assert [response.status_code for response in accepted] == [202, 202, 202]
    assert_too_many(refused)
    # 3 a minute: the next place comes 20 s after the first was taken.
    assert 15 <= int(refused.headers["retry-after"]) <= 20
    assert_too_many(read)
    assert await department_report_count(sessionmaker, department) == 3
    # Another client's budget is its own.
    assert other.status_code == 202


async def test_the_rate_holds_across_replicas(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    settings = {"rate_limit_per_minute": 4}
    async with running_app(**settings) as first, running_app(**settings) as second:
        address = unique_address()
        async with client_of(first, address=address) as a, client_of(second, address=address) as b:
            # Tried: alternating between two API processes to get twice the budget.
            answers = [
                await (a if n % 2 == 0 else b).post(
                    "/v1/reports", json=report_body(), headers=bearer(token)
                )
                for n in range(6)
            ]
    assert [answer.status_code for answer in answers] == [202, 202, 202, 202, 429, 429]
    assert await department_report_count(sessionmaker, department) == 4


async def test_repeated_authentication_failures_from_one_address_get_429(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """At the default, 20 failures a minute; then even a good credential from that address
    waits, while the same credential from elsewhere is served."""
    department, token = await new_portal(sessionmaker)
    key_id = token.split(".", 1)[0]
    guesses = [{}, {"Authorization": "Bearer nonsense"}] + [
        bearer(f"{key_id}.guess{n}") for n in range(18)
    ]
    attacker = unique_address()
    async with running_app() as app:
        async with client_of(app, address=attacker) as api:
            # Tried: no credential, a malformed one, then 18 guesses at the portal's secret.
            failures = [
                await api.post("/v1/reports", json=report_body(), headers=headers)
                for headers in guesses
            ]
            held_back = await api.post("/v1/reports", json=report_body(), headers=bearer(token))
        async with client_of(app, address=unique_address()) as elsewhere:
            served = await elsewhere.post("/v1/reports", json=report_body(), headers=bearer(token))

    for failure in failures:
        assert_problem(failure, 401)
    assert_too_many(held_back)
    assert "authentication" in held_back.json()["detail"]
    assert served.status_code == 202, served.text
    # The guesses spent nothing of the portal's own budget, and stored nothing.
    assert await department_report_count(sessionmaker, department) == 1


async def test_requests_pass_when_redis_is_down(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    async with running_app(rate_limit_per_minute=1, auth_failures_per_minute=1) as app:
        resources: ServiceResources = app.state.resources
        dead = ArqRedis(connection_pool=ConnectionPool.from_url("redis://127.0.0.1:1/0"))
        app.state.resources = dataclasses.replace(
            resources, rate_limiter=RateLimiter(redis=dead, namespace="unreachable")
        )
        try:
            async with client_of(app, address=unique_address()) as api:
                # Tried: more requests and failures than the limits allow, with no Redis.
                accepted = [
                    await api.post("/v1/reports", json=report_body(), headers=bearer(token))
                    for _ in range(3)
                ]
                wrong = [
                    await api.post("/v1/reports", json=report_body(), headers=bearer("ck_x.y"))
                    for _ in range(3)
                ]
        finally:
            await dead.aclose()
    assert [response.status_code for response in accepted] == [202, 202, 202]
    assert [response.status_code for response in wrong] == [401, 401, 401]
    assert await department_report_count(sessionmaker, department) == 3
