"""Notices served on a department's employees, kept for the department's portal: the notice,
the answers the portal sent for the employee, and the notice's history.

Revision ID: intake_0010
Revises: intake_0006
Create Date: 2026-12-01 02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0010"
down_revision: str | None = "intake_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "served_notice",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("department", sa.String(64), nullable=False, index=True),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("employee_name", sa.String(200), nullable=False),
        sa.Column("content", postgresql.JSONB(), nullable=False),
        sa.Column("reply_due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_served_notice_department_employee_ref",
        "served_notice",
        ["department", "employee_ref"],
        schema=SCHEMA,
    )
    op.create_table(
        "notice_reply",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "notice_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.served_notice.id"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "client_credential_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.client_credential.id"),
            nullable=False,
        ),
        sa.Column("statement", sa.Text()),
        sa.Column("representative", postgresql.JSONB()),
        sa.Column("attachment_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("hearing_requested", sa.Boolean(), nullable=False),
        sa.Column("extension_reason", sa.Text()),
        sa.Column("extension_working_days", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.Text()),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "(statement IS NOT NULL) <> (extension_working_days IS NOT NULL)",
            name="reply_or_extension",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "notice_event",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "notice_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.served_notice.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("notice_event", schema=SCHEMA)
    op.drop_table("notice_reply", schema=SCHEMA)
    op.drop_index(
        "ix_served_notice_department_employee_ref", table_name="served_notice", schema=SCHEMA
    )
    op.drop_table("served_notice", schema=SCHEMA)
