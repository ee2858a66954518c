"""registry's penalties-and-sanctions migration goes down and up again while the ledger holds
only determinations, refuses to go down once it holds a sanction event, and the database
itself refuses a half-filled record of either kind."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.stack import scratch_database

# These rows are written in the format before registry_0007 (no personal digest).
UP_TO = "registry_0006"

VIOLATION = (
    "INSERT INTO registry.ledger_record (id, sequence, record_kind, case_id, submission_id, "
    "department, employee_ref, employee_name, rules_cited, platform, reasons, determined_by, "
    "effective_on, recorded_at, reported_at, catalogue_version, content_hash, previous_hash, "
    "chain_hash) VALUES ($1, $2, 'violation', $1, $1, 'D', $3, 'N', '{CR1964-22}', 'x', 'r', "
    "$1, '2026-01-01', now(), now(), 1, 'h', 'h', 'h')"
)
SANCTION_EVENT = (
    "INSERT INTO registry.ledger_record (id, sequence, record_kind, case_id, submission_id, "
    "department, reasons, effective_on, recorded_at, catalogue_version, content_hash, "
    "previous_hash, chain_hash, violation_id, sanction_id, sanction_event, penalty_code, "
    "penalty_catalogue_version, order_reference, recorded_by_id, recorded_by_label) VALUES "
    "($1, $2, 'sanction_event', $3, $3, 'D', 'r', '2026-03-01', now(), 1, 'h', 'h', 'h', $3, "
    "$1, 'imposed', 'ED2020-CENSURE', 1, 'SO/1', $3, $4)"
)


async def _run(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        records: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return records
    finally:
        await connection.close()


def run(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    return asyncio.run(_run(url, sql, *args))


def columns(url: str) -> set[str]:
    rows = run(
        url,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'registry' AND table_name = 'ledger_record'",
    )
    return {row["column_name"] for row in rows}


def test_registry_migrations_downgrade_and_upgrade_again() -> None:
    with scratch_database() as url:
        config = alembic_config("registry", url)
        upgrade("registry", url, UP_TO)
        violation_id = uuid.uuid4()
        run(url, VIOLATION, violation_id, 1, "E-1")

        command.downgrade(config, "registry_0002")

        assert not {"sanction_id", "penalty_code", "recorded_by_id"} & columns(url)
        tables = {
            row["tablename"]
            for row in run(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'registry'")
        }
        assert not {"penalty", "penalty_catalogue_version"} & tables
        assert run(url, "SELECT employee_ref FROM registry.ledger_record")[0][0] == "E-1"
        # The old schema again: a determination without its finding is refused.
        with pytest.raises(asyncpg.NotNullViolationError):
            run(url, VIOLATION, uuid.uuid4(), 2, None)

        upgrade("registry", url, UP_TO)

        assert run(url, "SELECT count(*) FROM registry.penalty")[0][0] == 8
        # Half-filled records of either kind are refused by the database itself.
        with pytest.raises(asyncpg.CheckViolationError, match="determination_complete"):
            run(url, VIOLATION, uuid.uuid4(), 2, None)
        with pytest.raises(asyncpg.CheckViolationError, match="sanction_event_complete"):
            run(url, SANCTION_EVENT, uuid.uuid4(), 2, violation_id, None)
        run(url, SANCTION_EVENT, uuid.uuid4(), 2, violation_id, "competent authority D")

        with pytest.raises(RuntimeError, match="Downgrade refused"):
            command.downgrade(config, "registry_0002")
        assert "sanction_id" in columns(url)
