"""Test run setup: a fresh database on the real PostgreSQL and a private queue namespace on the
real Redis for this run, migrated once; dropped at the end."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.stack import administer, server_url, with_database

RUN_ID = uuid.uuid4().hex[:10]
RUN_DATABASE = f"conduct_test_{RUN_ID}"
RUN_DATABASE_URL = with_database(server_url(), RUN_DATABASE)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    asyncio.run(administer(f'CREATE DATABASE "{RUN_DATABASE}"'))
    os.environ["DATABASE_URL"] = RUN_DATABASE_URL
    os.environ["QUEUE_PREFIX"] = f"test-{RUN_ID}"
    os.environ["CONDUCT_ENVIRONMENT"] = "test"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["LOG_JSON"] = "true"
    os.environ["RELAY_POLL_SECONDS"] = "0.2"
    from shared.migrations import upgrade_all

    upgrade_all(RUN_DATABASE_URL)


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get("KEEP_TEST_DATABASE"):
        return
    asyncio.run(administer(f'DROP DATABASE IF EXISTS "{RUN_DATABASE}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def sessionmaker() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from tests.support import test_sessionmaker

    maker, engine = test_sessionmaker()
    yield maker
    await engine.dispose()


@pytest.fixture(scope="session")
async def queue() -> AsyncIterator[ArqRedis]:
    from shared.queue import create_queue_pool
    from shared.settings import ServiceSettings

    pool = await create_queue_pool(ServiceSettings())
    yield pool
    # The run's queues, and arq's job, result and retry keys, which carry the queue name.
    for pattern in (f"test-{RUN_ID}:*", f"arq:*test-{RUN_ID}:*"):
        keys = [key async for key in pool.scan_iter(match=pattern)]
        if keys:
            await pool.delete(*keys)
    await pool.aclose()


@pytest.fixture(scope="session")
async def intake_api() -> AsyncIterator[httpx.AsyncClient]:
    from services.intake.app import create_app
    from tests.support import api_client

    async with api_client(create_app()) as client:
        yield client


@pytest.fixture(scope="session")
async def review_api() -> AsyncIterator[httpx.AsyncClient]:
    from services.review.app import create_app
    from tests.support import api_client

    async with api_client(create_app()) as client:
        yield client


@pytest.fixture(scope="session")
async def registry_api() -> AsyncIterator[httpx.AsyncClient]:
    from services.registry.app import create_app
    from tests.support import api_client

    async with api_client(create_app()) as client:
        yield client


@pytest.fixture(scope="session")
async def catalogue(sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis) -> None:
    """The rules catalogue, published by registry's migration, delivered to intake and review."""
    from tests.support import pump

    await pump(sessionmaker, queue)
