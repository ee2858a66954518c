"""review_0005 goes down (to review_0004) and up again: the appeal table goes and comes back
empty, the cases stay, and the database refuses a half-recorded decision."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.review.test_migrations import run
from tests.stack import scratch_database

# $1 case, $2 member, $3 outcome, $4 decision reasons.
APPEAL = (
    "INSERT INTO review.appeal (case_id, grounds, filed_on, recorded_by, outcome, "
    "decision_reasons, decided_by, decided_at) VALUES ($1, 'g', '2026-11-30', $2::uuid, $3::text, $4, "
    "CASE WHEN $3::text IS NULL THEN NULL ELSE $2::uuid END, "
    "CASE WHEN $3::text IS NULL THEN NULL ELSE now() END)"
)


def test_appeals_migration_downgrades_and_upgrades_again() -> None:
    with scratch_database() as url:
        upgrade("review", url)
        unit_id, member_id, case_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        run(
            url,
            "INSERT INTO review.monitoring_unit (id, code, name) VALUES ($1, 'U', 'U')",
            unit_id,
        )
        run(
            url,
            "INSERT INTO review.member (id, unit_id, name, employee_ref, office, role, active) "
            "VALUES ($1, $2, 'M', 'E', 'O', 'appellate_authority', true)",
            member_id,
            unit_id,
        )
        run(
            url,
            "INSERT INTO review.case (id, kind, submission_id, subject_position, unit_id, "
            "department, subject_employee_ref, subject_name, subject_designation, "
            "subject_office, is_group_administrator, platform, content_excerpt, rules_alleged, "
            "evidence_count, reporter_ref, reporter_office_ref, state, assignee_id, reported_at) "
            "VALUES ($1, 'report', $1, 0, $2, 'D', 'S', 'S', 'S', 'S', false, 'x', 'x', "
            "'{CR1964-22}', 0, 'r', 'o', 'appealed', NULL, now())",
            case_id,
            unit_id,
        )
        # A decision without its reasons, or an outcome outside the three: refused.
        with pytest.raises(asyncpg.CheckViolationError, match="decision_complete"):
            run(url, APPEAL, case_id, member_id, "upheld", None)
        with pytest.raises(asyncpg.CheckViolationError, match="outcome"):
            run(url, APPEAL, case_id, member_id, "quashed", "r")
        run(url, APPEAL, case_id, member_id, None, None)

        command.downgrade(alembic_config("review", url), "review_0004")
        tables = run(url, "SELECT to_regclass('review.appeal') AS appeal")
        assert tables[0]["appeal"] is None
        upgrade("review", url)
        assert run(url, "SELECT count(*) AS n FROM review.appeal")[0]["n"] == 0
        assert run(url, "SELECT state FROM review.case WHERE id = $1", case_id)[0]["state"] == (
            "appealed"
        )
