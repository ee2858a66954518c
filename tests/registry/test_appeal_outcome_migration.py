"""registry's appeal-outcomes migration goes down and up again while the ledger holds no
appeal outcome, refuses to go down once it does, keeps every earlier record kind, and the
database itself refuses an ill-formed appeal outcome."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.registry.test_migrations import VIOLATION, columns, run
from tests.registry.test_permission_migration import OFFICIAL_ACCOUNT
from tests.stack import scratch_database

# These rows are written in the format before registry_0007 (no personal digest).
UP_TO = "registry_0006"

# $1 id, $2 sequence, $3 outcome, $4 supersedes, $5 violation appealed, $6 case.
APPEAL_OUTCOME = (
    "INSERT INTO registry.ledger_record (id, sequence, record_kind, supersedes_id, "
    "violation_id, case_id, submission_id, department, employee_ref, employee_name, "
    "rules_cited, platform, reasons, determined_by, effective_on, recorded_at, reported_at, "
    "catalogue_version, content_hash, previous_hash, chain_hash, appeal_outcome, decided_at) "
    "VALUES ($1, $2, 'appeal_outcome', $4, $5, $6, $6, 'D', 'E', 'N', '{CR1964-22}', 'x', 'r', "
    "$1, '2026-02-01', now(), now(), 1, 'h', 'h', 'h', $3, now())"
)


def test_appeal_outcome_migration_downgrades_and_upgrades_again() -> None:
    with scratch_database() as url:
        config = alembic_config("registry", url)
        upgrade("registry", url, UP_TO)
        violation_id = uuid.uuid4()
        run(url, VIOLATION, violation_id, 1, "E-1")

        command.downgrade(config, "registry_0004")
        assert "appeal_outcome" not in columns(url)
        # registry_0004's kinds are all still allowed.
        run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 2, "granted", "@h", uuid.uuid4())

        upgrade("registry", url, UP_TO)
        run(url, OFFICIAL_ACCOUNT, uuid.uuid4(), 3, "granted", "@h", uuid.uuid4())

        case_id = violation_id
        # An outcome outside the three, a set-aside superseding nothing, an upheld one that
        # supersedes: all refused by the database itself.
        with pytest.raises(asyncpg.CheckViolationError, match="appeal_outcome"):
            run(
                url, APPEAL_OUTCOME, uuid.uuid4(), 4, "quashed", violation_id, violation_id, case_id
            )
        with pytest.raises(asyncpg.CheckViolationError, match="appeal_outcome_complete"):
            run(url, APPEAL_OUTCOME, uuid.uuid4(), 4, "set_aside", None, violation_id, case_id)
        with pytest.raises(asyncpg.CheckViolationError, match="appeal_outcome_complete"):
            run(url, APPEAL_OUTCOME, uuid.uuid4(), 4, "upheld", violation_id, violation_id, case_id)
        run(url, APPEAL_OUTCOME, uuid.uuid4(), 4, "upheld", None, violation_id, case_id)
        # One appeal outcome per case.
        with pytest.raises(asyncpg.UniqueViolationError, match="case_id_appeal_outcome"):
            run(
                url,
                APPEAL_OUTCOME,
                uuid.uuid4(),
                5,
                "set_aside",
                violation_id,
                violation_id,
                case_id,
            )

        with pytest.raises(RuntimeError, match="Downgrade refused"):
            command.downgrade(config, "registry_0004")
        assert "appeal_outcome" in columns(url)
