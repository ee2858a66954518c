"""registry's permission-records migration goes down and up again while the ledger holds no
permission record, refuses to go down once it does, and the database itself refuses a
half-filled permission record."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.registry.test_migrations import VIOLATION, columns, run
from tests.stack import scratch_database

# These rows are written in the format before registry_0007 (no personal digest).
UP_TO = "registry_0006"

# $1 id, $2 sequence, $3 decision, $4 account handle, $5 case.
OFFICIAL_ACCOUNT = (
    "INSERT INTO registry.ledger_record (id, sequence, record_kind, case_id, submission_id, "
    "department, platform, reasons, determined_by, effective_on, recorded_at, "
    "catalogue_version, content_hash, previous_hash, chain_hash, decision, conditions, "
    "account_handle, purpose, moderators, expires_on, decided_at) VALUES ($1, $2, "
    "'official_account', $5, $5, 'D', 'facebook', 'r', $1, '2026-01-01', now(), 1, 'h', 'h', "
    "'h', $3, '{}', $4, 'p', '[]', '2026-12-31', now())"
)


def test_permission_migration_downgrades_and_upgrades_again() -> None:
    with scratch_database() as url:
        config = alembic_config("registry", url)
        upgrade("registry", url, UP_TO)
        run(url, VIOLATION, uuid.uuid4(), 1, "E-1")

        command.downgrade(config, "registry_0003")

        assert not {"decision", "moderators", "expires_on", "renewal_of"} & columns(url)
        with pytest.raises(asyncpg.UndefinedColumnError):
            run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 2, "granted", "@h", uuid.uuid4())

        upgrade("registry", url, UP_TO)

        # Half-filled or ill-formed permission records are refused by the database itself.
        case_id = uuid.uuid4()
        with pytest.raises(asyncpg.CheckViolationError, match="permission_complete"):
            run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 2, "granted", None, case_id)
        with pytest.raises(asyncpg.CheckViolationError, match="decision"):
            run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 2, "maybe", "@h", case_id)
        run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 2, "granted", "@h", case_id)
        # One permission decision per case.
        with pytest.raises(asyncpg.UniqueViolationError, match="case_id_permission"):
            run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 3, "refused", "@h", case_id)

        with pytest.raises(RuntimeError, match="Downgrade refused"):
            command.downgrade(config, "registry_0003")
        assert "decision" in columns(url)
