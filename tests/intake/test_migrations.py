"""intake's migrations go down and up again: the client lineage and the idempotency store are
reversible, and credentials issued before the lineage existed become their own clients."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.stack import scratch_database


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        records: list[asyncpg.Record] = await connection.fetch(sql)
        return records
    finally:
        await connection.close()


def test_intake_migrations_downgrade_and_upgrade_again() -> None:
    with scratch_database() as url:
        upgrade("intake", url)
        command.downgrade(alembic_config("intake", url), "intake_0001")
        tables = asyncio.run(
            _fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'intake'")
        )
        assert "idempotency_key" not in {row["tablename"] for row in tables}
        credential_id = uuid.uuid4()
        asyncio.run(
            _fetch(
                url,
                "INSERT INTO intake.client_credential (id, key_id, secret_hash, label, "
                "organisation_kind, organisation_code, scopes) VALUES "
                f"('{credential_id}', 'ck_old', 'x', 'old', 'department', 'D', '{{}}')",
            )
        )

        upgrade("intake", url)

        lineage = asyncio.run(_fetch(url, "SELECT id, client_id FROM intake.client_credential"))
        assert [(row["id"], row["client_id"]) for row in lineage] == [
            (credential_id, credential_id)
        ]
        keys = asyncio.run(_fetch(url, "SELECT count(*) AS n FROM intake.idempotency_key"))
        assert keys[0]["n"] == 0
