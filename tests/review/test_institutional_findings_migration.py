"""review_0004 goes down (to review_0003) and up again: the institutional-finding table goes and comes back
empty, the cases it described stay, and the database refuses a record accepted where the
institution's row did not say it had one."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.review.test_migrations import run
from tests.stack import scratch_database

FINDING = (
    "INSERT INTO review.institutional_finding (case_id, entry_id, batch_id, row_number, "
    "institution, institution_finding_ref, rule, platform, finding, found_on, "
    "notice_and_reply_on_record, record_accepted_by, record_accepted_at) "
    "VALUES ($1, $1, $1, 1, 'MTI-LRH', 'LRH/1', 'CR1964-22', 'x', 'A post.', '2026-11-02', "
    "$2, $3, CASE WHEN $3::uuid IS NULL THEN NULL ELSE now() END)"
)


def test_institutional_findings_migration_downgrades_and_upgrades_again() -> None:
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
            "VALUES ($1, $2, 'M', 'E', 'O', 'member', true)",
            member_id,
            unit_id,
        )
        run(
            url,
            "INSERT INTO review.case (id, kind, submission_id, subject_position, unit_id, "
            "department, subject_employee_ref, subject_name, subject_designation, "
            "subject_office, is_group_administrator, platform, content_excerpt, rules_alleged, "
            "evidence_count, reporter_ref, reporter_office_ref, state, assignee_id, reported_at) "
            "VALUES ($1, 'institutional_finding', $1, 0, $2, 'MTI-LRH', 'S', 'S', 'S', 'S', "
            "false, 'x', 'A post.', '{CR1964-22}', 0, 'r', 'o', 'reply_received', $3, now())",
            case_id,
            unit_id,
            member_id,
        )
        # Accepted without the institution's row saying it had the record: refused.
        with pytest.raises(asyncpg.CheckViolationError, match="record_accepted_only_when"):
            run(url, FINDING, case_id, False, member_id)
        run(url, FINDING, case_id, True, member_id)

        command.downgrade(alembic_config("review", url), "review_0003")

        tables = {
            row["tablename"]
            for row in run(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'review'")
        }
        assert "institutional_finding" not in tables
        assert run(url, "SELECT kind FROM review.case WHERE id = $1", case_id)[0]["kind"] == (
            "institutional_finding"
        )

        upgrade("review", url)

        assert run(url, "SELECT count(*) AS n FROM review.institutional_finding")[0]["n"] == 0
        # One finding per violator-list row.
        run(url, FINDING, case_id, False, None)
        with pytest.raises(asyncpg.UniqueViolationError):
            run(
                url,
                FINDING.replace("($1, $1, $1", "(gen_random_uuid(), $1, $1"),
                case_id,
                False,
                None,
            )
