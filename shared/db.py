"""Database plumbing: declarative bases per schema, the engine, and one session per unit of work.

Each service owns one PostgreSQL schema. Its models derive from a base made by `schema_base`,
which carries the schema name and the constraint naming convention, so migrations produce
predictable constraint names.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import MetaData, event, text
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import ServiceSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value of a PostgreSQL bigint: a cursor or offset past it is bad input (422), not
# an overflow in the driver (500).
BIGINT_MAX = 2**63 - 1


def schema_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


# A pooled connection idle for longer than this is pinged before it is handed out (a firewall
# or the server may have dropped it silently); one used more recently is only checked locally.
PING_AFTER_IDLE_SECONDS = 2.0
CHECKED_IN_AT = "conduct.checked_in_at"


def check_connection_on_checkout(
    dbapi_connection: Any, connection_record: Any, _proxy: Any
) -> None:
    """What `pool_pre_ping` did, without its three round trips (BEGIN, a ping, ROLLBACK) on
    every checkout. A server that closed the connection (a restart, a reset) is seen by the
    driver without asking; only a connection that sat idle, which could have been dropped
    without a word, is pinged. A dead one invalidates the pool, as a failed pre-ping did, and
    the pool hands out a new connection instead."""
    if dbapi_connection.driver_connection.is_closed():
        raise InvalidatePoolError("the server closed this connection")
    checked_in_at = connection_record.info.get(CHECKED_IN_AT)
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise InvalidatePoolError("an idle connection did not answer its ping") from exc


def note_checkin(dbapi_connection: Any, connection_record: Any) -> None:
    connection_record.info[CHECKED_IN_AT] = time.monotonic()


def create_engine(settings: ServiceSettings, *, application_name: str) -> AsyncEngine:
    engine = create_async_engine(
        settings.async_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=10,
        connect_args={
            "server_settings": {
                "application_name": application_name,
                "statement_timeout": str(settings.database_statement_timeout_ms),
                # JIT compiles a plan whose estimated cost is high, such as a keyset page over
                # a large table (a LIMIT the estimate ignores), and spends a second compiling
                # what runs in a millisecond. Our queries are short: never worth it.
                "jit": "off",
            },
            "timeout": 10,
        },
    )
    event.listen(engine.sync_engine, "checkout", check_connection_on_checkout)
    event.listen(engine.sync_engine, "checkin", note_checkin)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    async with sessionmaker() as session, session.begin():
        yield session


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's open transaction, for
    bulk work (COPY) that SQLAlchemy's statements would do row by row.

    The driver's transaction starts lazily with the session's first statement; one is run if
    none has been, so that COPY can never commit on its own.
    """
    connection = await (await session.connection()).get_raw_connection()
    driver: asyncpg.Connection = connection.driver_connection
    if not driver.is_in_transaction():
        await session.execute(text("SELECT 1"))
    if not driver.is_in_transaction():
        raise RuntimeError("the session's connection is not in a transaction")
    return driver
