"""intake's permission-request migration goes down and up again: the requests leave with their
status lines, a report's history stays."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.intake.test_migrations import _fetch
from tests.stack import scratch_database


def test_permission_requests_go_down_with_their_history_and_come_back_empty() -> None:
    with scratch_database() as url:

        def sql(statement: str) -> list[dict[str, object]]:
            return [dict(row) for row in asyncio.run(_fetch(url, statement))]

        upgrade("intake", url)
        credential, request, report = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        sql(
            "INSERT INTO intake.client_credential (id, client_id, key_id, secret_hash, label, "
            "organisation_kind, organisation_code, scopes) VALUES "
            f"('{credential}', '{credential}', 'ck_p', 'x', 'p', 'department', 'D', '{{}}')"
        )
        sql(
            "INSERT INTO intake.permission_request (id, department, client_credential_id, kind, "
            "platform, account_handle, purpose, account_purpose, status, status_changed_at) "
            f"VALUES ('{request}', 'D', '{credential}', 'official_account', 'x', '@d', 'p', "
            "'complaints', 'received', now())"
        )
        sql(
            "INSERT INTO intake.report (id, department, client_credential_id, "
            "reporter_employee_ref, reporter_name, reporter_office, platform, content_excerpt, "
            "rules_alleged, status, status_changed_at) VALUES "
            f"('{report}', 'D', '{credential}', 'E', 'N', 'O', 'x', 'c', '{{}}', 'received', now())"
        )
        for submission in (request, report):
            sql(
                "INSERT INTO intake.submission_status_event (submission_id, status, occurred_at) "
                f"VALUES ('{submission}', 'received', now())"
            )

        command.downgrade(alembic_config("intake", url), "intake_0004")

        tables = {
            row["tablename"]
            for row in sql("SELECT tablename FROM pg_tables WHERE schemaname = 'intake'")
        }
        assert not {"permission_request", "account_moderator"} & tables
        history = sql("SELECT submission_id FROM intake.submission_status_event")
        assert [row["submission_id"] for row in history] == [report]

        upgrade("intake", url)

        assert sql("SELECT count(*) AS n FROM intake.permission_request")[0]["n"] == 0
