"""intake's first tables: client credentials, the rules reference, reports and their status.

Revision ID: intake_0001
Revises:
Create Date: 2026-11-23 00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import (
    create_messaging_tables,
    create_rules_replica_table,
    drop_messaging_tables,
)

revision: str = "intake_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.create_table(
        "client_credential",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("organisation_kind", sa.String(16), nullable=False),
        sa.Column("organisation_code", sa.String(64), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "organisation_kind IN ('department', 'institution')", name="organisation_kind"
        ),
        schema=SCHEMA,
    )
    create_rules_replica_table(SCHEMA)
    op.create_table(
        "report",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("department", sa.String(64), nullable=False, index=True),
        sa.Column(
            "client_credential_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.client_credential.id"),
            nullable=False,
        ),
        sa.Column("reporter_employee_ref", sa.String(64), nullable=False),
        sa.Column("reporter_name", sa.String(200), nullable=False),
        sa.Column("reporter_office", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("content_excerpt", sa.Text(), nullable=False),
        sa.Column("content_url", sa.String(2048)),
        sa.Column("posted_at", sa.DateTime(timezone=True)),
        sa.Column("rules_alleged", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "report_subject",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "report_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.report.id"), nullable=False, index=True
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("designation", sa.String(200), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        sa.Column("is_group_administrator", sa.Boolean(), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "evidence_item",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "report_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.report.id"), nullable=False, index=True
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2048)),
        sa.Column("platform_post_id", sa.String(200)),
        sa.Column("author_handle", sa.String(200)),
        sa.Column("captured_at", sa.DateTime(timezone=True)),
        sa.Column("captured_by", sa.String(200)),
        sa.Column("description", sa.Text()),
        schema=SCHEMA,
    )
    op.create_table(
        "submission_status_event",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "submission_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.report.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("submission_status_event", "evidence_item", "report_subject", "report"):
        op.drop_table(table, schema=SCHEMA)
    op.drop_table("rule_reference", schema=SCHEMA)
    op.drop_table("client_credential", schema=SCHEMA)
    drop_messaging_tables(SCHEMA)
