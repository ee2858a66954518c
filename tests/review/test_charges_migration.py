"""Migration review_0008: cases opened before charges existed get them drafted as a new case
would (one per alleged rule, the group administrator's own, every evidence item relied on), a
permission case gets none, and the revision goes down and up again."""

from __future__ import annotations

import uuid

from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.review.test_migrations import run
from tests.stack import scratch_database

CASE = (
    "INSERT INTO review.case (id, kind, submission_id, subject_position, unit_id, "
    "department, subject_employee_ref, subject_name, subject_designation, "
    "subject_office, is_group_administrator, platform, content_excerpt, rules_alleged, "
    "evidence_count, reporter_ref, reporter_office_ref, state, assignee_id, reported_at) "
    "VALUES ($1, $2, $1, 0, NULL, 'D', 'S', 'S', 'S', 'S', $3, 'x', 'The post.', $4, $5, "
    "'r', 'o', 'received', NULL, now())"
)


def test_earlier_cases_get_their_charges_drafted_and_the_revision_reverses() -> None:
    report_case, permission_case = uuid.uuid4(), uuid.uuid4()
    with scratch_database() as url:
        command.upgrade(alembic_config("review", url), "review_0007")
        run(url, CASE, report_case, "report", True, ["CR1964-22", "NOTIF-POLITICAL-SECTARIAN"], 2)
        run(url, CASE, permission_case, "permission", False, [], 0)

        upgrade("review", url)

        charges = run(
            url,
            "SELECT case_id, number, rule, basis, evidence FROM review.charge ORDER BY number",
        )
        assert [(c["case_id"], c["number"], c["rule"], c["basis"]) for c in charges] == [
            (report_case, 1, "CR1964-22", "alleged"),
            (report_case, 2, "NOTIF-POLITICAL-SECTARIAN", "alleged"),
            (report_case, 3, "NOTIF-GROUP-ADMINISTRATOR", "group_administrator"),
        ]
        assert all(c["evidence"] == [1, 2, 3] for c in charges)
        evidence = run(
            url, "SELECT case_id, number, kind FROM review.case_evidence ORDER BY number"
        )
        assert [(e["case_id"], e["number"], e["kind"]) for e in evidence] == [
            (report_case, 1, "reported_content"),
            (report_case, 2, "report_item"),
            (report_case, 3, "report_item"),
        ]
        assert run(url, "SELECT count(*) AS n FROM review.penalty_reference")[0]["n"] == 8

        command.downgrade(alembic_config("review", url), "review_0007")
        assert run(url, "SELECT to_regclass('review.charge') AS t")[0]["t"] is None
        upgrade("review", url)
        assert run(url, "SELECT count(*) AS n FROM review.charge")[0]["n"] == 3
