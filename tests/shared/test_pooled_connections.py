"""A pooled connection the server has closed is never handed to a request: the pool notices
without a round trip and hands out a new one (shared.db.check_connection_on_checkout), as
`pool_pre_ping` did with three round trips on every checkout."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from shared.db import create_engine
from shared.settings import ServiceSettings
from tests.stack import administer


async def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it() -> None:
    engine = create_engine(ServiceSettings(), application_name="tests-pooled-connections")
    try:
        async with engine.connect() as connection:
            first = await connection.scalar(text("SELECT pg_backend_pid()"))
        # The server ends the idle pooled connection, as a restart or an administrator does.
        await administer(f"SELECT pg_terminate_backend({int(first)})")
        await asyncio.sleep(0.5)
        async with engine.connect() as connection:
            second = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await engine.dispose()
