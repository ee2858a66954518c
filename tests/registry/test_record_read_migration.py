"""registry's read-log migration (registry_0006) goes down and up again while the log is empty,
refuses to go down once it holds a read, and the database itself refuses to change or remove a
logged read."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.registry.test_migrations import run
from tests.stack import scratch_database

READ = (
    "INSERT INTO registry.employee_record_read (id, reader_credential_id, reader_label, "
    "reader_role, employee_ref, reason) VALUES ($1, $1, 'auditor', 'auditor', 'E-1', 'Audit')"
)
TABLES = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'registry' "
    "AND table_name = 'employee_record_read'"
)


def test_read_log_migration_downgrades_and_upgrades_again() -> None:
    with scratch_database() as url:
        config = alembic_config("registry", url)
        upgrade("registry", url)
        # One step below this migration, whatever it is chained after.
        command.downgrade(config, "registry_0006-1")
        assert run(url, TABLES) == []

        upgrade("registry", url)
        read_id = uuid.uuid4()
        run(url, READ, read_id)
        # Once a read is logged, going down would erase it: refused.
        with pytest.raises(RuntimeError, match="Downgrade refused"):
            command.downgrade(config, "registry_0006-1")
        assert len(run(url, TABLES)) == 1
        for statement in (
            "UPDATE registry.employee_record_read SET reason = 'nothing' WHERE id = $1",
            "DELETE FROM registry.employee_record_read WHERE id = $1",
        ):
            with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
                run(url, statement, read_id)
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            run(url, "TRUNCATE registry.employee_record_read")
