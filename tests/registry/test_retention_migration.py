"""registry_0007 on a database that already holds records: every record gets its salt and
personal digest and new hashes, so the chain verifies after `alembic upgrade head`; the
checkpoints of the old heads are gone; the way down works while nothing was purged and is
refused once something was."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from services.registry.ledger.chain import ChainVerification
from services.registry.ledger.service import verify_ledger
from shared.db import create_sessionmaker
from shared.migrations import alembic_config, upgrade
from shared.settings import to_asyncpg_url
from tests.registry.test_migrations import VIOLATION, run
from tests.registry.test_permission_migration import OFFICIAL_ACCOUNT
from tests.stack import scratch_database

CHECKPOINT = (
    "INSERT INTO registry.ledger_checkpoint (head_sequence, record_count, head_hash, signed_at, "
    "signature, public_key) VALUES (2, 2, 'h', now(), 's', 'k')"
)


async def _verify(url: str) -> ChainVerification:
    engine = create_async_engine(to_asyncpg_url(url))
    try:
        async with create_sessionmaker(engine)() as session:
            return await verify_ledger(session, batch_size=2)
    finally:
        await engine.dispose()


def verify(url: str) -> ChainVerification:
    return asyncio.run(_verify(url))


async def _script(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def script(url: str, sql: str) -> None:
    """Several statements in one go (a transaction of its own, for SET LOCAL)."""
    asyncio.run(_script(url, sql))


def test_the_chain_verifies_after_upgrading_a_ledger_that_held_records() -> None:
    with scratch_database() as url:
        config = alembic_config("registry", url)
        upgrade("registry", url, "registry_0006")
        run(url, VIOLATION, uuid.uuid4(), 1, "E-1")
        run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 2, "granted", "@h", uuid.uuid4())
        run(url, VIOLATION, uuid.uuid4(), 3, "E-3")
        run(url, CHECKPOINT)

        upgrade("registry", url)

        verification = verify(url)
        assert verification.status == "intact", verification.first_broken
        assert verification.records_checked == 3
        rows = run(url, "SELECT personal_salt, personal_digest FROM registry.ledger_record")
        assert all(row["personal_salt"] and row["personal_digest"] for row in rows)
        assert run(url, "SELECT count(*) FROM registry.ledger_checkpoint")[0][0] == 0

        command.downgrade(config, "registry_0006")
        assert (
            run(url, "SELECT employee_ref FROM registry.ledger_record WHERE sequence = 1")[0][0]
            == "E-1"
        )
        upgrade("registry", url)
        assert verify(url).status == "intact"

        script(
            url,
            "BEGIN; SET LOCAL registry.retention_purge = 'on'; UPDATE registry.ledger_record "
            "SET employee_ref = NULL, employee_name = NULL, reasons = NULL, personal_salt = NULL "
            "WHERE sequence = 1; COMMIT;",
        )
        with pytest.raises(RuntimeError, match="Downgrade refused"):
            command.downgrade(config, "registry_0006")
