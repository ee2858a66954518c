"""review's migrations go down and up again: without the hearing step, a case that concluded
its hearing goes back to where it stood before, and the new tables come back empty."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.stack import scratch_database


async def _run(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        records: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return records
    finally:
        await connection.close()


def run(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    return asyncio.run(_run(url, sql, *args))


def test_review_migrations_downgrade_and_upgrade_again() -> None:
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
            "VALUES ($1, 'report', $1, 0, $2, 'D', 'S', 'S', 'S', 'S', false, 'x', 'x', '{}', 0, "
            "'r', 'o', 'hearing_concluded', $3, now())",
            case_id,
            unit_id,
            member_id,
        )
        run(
            url,
            "INSERT INTO review.case_event (case_id, from_state, to_state, reason) VALUES "
            "($1, 'reply_window_lapsed', 'hearing_concluded', 'hearing waived')",
            case_id,
        )
        run(
            url,
            "INSERT INTO review.hearing (case_id, outcome, attendees, waiver_reason, recorded_by) "
            "VALUES ($1, 'waived', '{}', 'none wanted', $2)",
            case_id,
            member_id,
        )

        command.downgrade(alembic_config("review", url), "review_0001")

        tables = {
            row["tablename"]
            for row in run(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'review'")
        }
        assert not {"hearing", "case_escalation", "member_event"} & tables
        state = run(url, "SELECT state FROM review.case WHERE id = $1", case_id)
        assert state[0]["state"] == "reply_window_lapsed"

        upgrade("review", url)

        for table in ("hearing", "case_escalation", "member_event"):
            assert run(url, f"SELECT count(*) AS n FROM review.{table}")[0]["n"] == 0
        # A half-filled hearing is refused by the database as well as the service.
        with pytest.raises(asyncpg.CheckViolationError, match="ck_hearing_held_or_waived"):
            run(
                url,
                "INSERT INTO review.hearing (case_id, outcome, attendees, recorded_by) "
                "VALUES ($1, 'held', '{}', $2)",
                case_id,
                member_id,
            )
