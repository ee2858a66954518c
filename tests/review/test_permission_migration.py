"""review's permission-case migration goes down and up again: permission cases leave with their
tables (they would otherwise pass for report cases), report cases stay."""

from __future__ import annotations

import uuid

from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.review.test_migrations import run
from tests.stack import scratch_database

CASE = (
    "INSERT INTO review.case (id, kind, submission_id, subject_position, department, "
    "subject_employee_ref, subject_name, subject_designation, subject_office, "
    "is_group_administrator, platform, content_excerpt, rules_alleged, evidence_count, "
    "reporter_ref, reporter_office_ref, state, reported_at) "
    "VALUES ($1, $2, $1, 0, 'D', '', 'S', 'S', '', false, 'x', 'x', '{}', 0, '', '', "
    "'received', now())"
)


def test_permission_cases_go_down_with_their_tables_and_come_back_empty() -> None:
    with scratch_database() as url:
        upgrade("review", url)
        permission_case, report_case = uuid.uuid4(), uuid.uuid4()
        run(url, CASE, permission_case, "permission")
        run(url, CASE, report_case, "report")
        for case_id in (permission_case, report_case):
            run(
                url,
                "INSERT INTO review.case_event (case_id, to_state, reason) "
                "VALUES ($1, 'received', 'opened')",
                case_id,
            )
        run(
            url,
            "INSERT INTO review.permission_application (case_id, request_id, kind, "
            "account_handle, purpose, moderators, applicant, received_at) "
            "VALUES ($1, $1, 'personal', '@a', 'p', '[]', '{}', now())",
            permission_case,
        )

        command.downgrade(alembic_config("review", url), "review_0002")

        tables = {
            row["tablename"]
            for row in run(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'review'")
        }
        assert not {"permission_application", "permission_decision"} & tables
        kinds = [row["kind"] for row in run(url, "SELECT kind FROM review.case")]
        assert kinds == ["report"]
        assert run(url, "SELECT count(*) AS n FROM review.case_event")[0]["n"] == 1

        upgrade("review", url)

        for table in ("permission_application", "permission_decision"):
            assert run(url, f"SELECT count(*) AS n FROM review.{table}")[0]["n"] == 0
