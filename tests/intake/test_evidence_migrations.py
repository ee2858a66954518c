"""The evidence and duplicate migrations go down with data in place and up again."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.stack import scratch_database


async def _run(url: str, *statements: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        records: list[asyncpg.Record] = []
        for statement in statements:
            records = await connection.fetch(statement)
        return records
    finally:
        await connection.close()


def test_evidence_migrations_downgrade_with_data_and_upgrade_again() -> None:
    with scratch_database() as url:
        credential, evidence_file, original, repeat = (uuid.uuid4() for _ in range(4))
        report_columns = (
            "department, client_credential_id, reporter_employee_ref, reporter_name, "
            "reporter_office, platform, content_excerpt, rules_alleged, status, status_changed_at"
        )
        report_values = f"'D', '{credential}', 'R', 'R', 'O', 'x', 'e', '{{}}'"
        upgrade("intake", url)
        asyncio.run(
            _run(
                url,
                "INSERT INTO intake.client_credential (id, client_id, key_id, secret_hash, label, "
                "organisation_kind, organisation_code, scopes) VALUES "
                f"('{credential}', '{credential}', 'ck_m', 'x', 'm', 'department', 'D', '{{}}')",
                "INSERT INTO intake.evidence_file (id, department, client_credential_id, sha256, "
                "size_bytes, media_type, uploaded_at, custody_length, custody_head) VALUES "
                f"('{evidence_file}', 'D', '{credential}', '{'a' * 64}', 10, 'image/png', now(), "
                f"1, '{'b' * 64}')",
                "INSERT INTO intake.custody_line (evidence_file_id, sequence, action, actor, "
                "occurred_at, prev_hash, line_hash) VALUES "
                f"('{evidence_file}', 1, 'uploaded', 'client:ck_m', now(), '{'0' * 64}', "
                f"'{'b' * 64}')",
                f"INSERT INTO intake.report (id, {report_columns}) VALUES "
                f"('{original}', {report_values}, 'received', now())",
                f"INSERT INTO intake.report (id, {report_columns}, duplicate_of) VALUES "
                f"('{repeat}', {report_values}, 'linked', now(), '{original}')",
                "INSERT INTO intake.evidence_item (report_id, position, kind, snapshot_file_id) "
                f"VALUES ('{repeat}', 0, 'post', '{evidence_file}')",
            )
        )

        command.downgrade(alembic_config("intake", url), "intake_0008")

        tables = asyncio.run(
            _run(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'intake'")
        )
        assert {"evidence_file", "custody_line"}.isdisjoint({row["tablename"] for row in tables})
        reports = asyncio.run(_run(url, "SELECT count(*) AS n FROM intake.report"))
        assert reports[0]["n"] == 2

        upgrade("intake", url)

        columns = asyncio.run(
            _run(
                url,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'intake' AND column_name IN ('duplicate_of', 'snapshot_file_id', 'recipient')",
            )
        )
        assert {row["column_name"] for row in columns} == {
            "duplicate_of",
            "snapshot_file_id",
            "recipient",
        }
