"""review's first tables: units, members and credentials; cases and their procedure.

Revision ID: review_0001
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

revision: str = "review_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _member_fk(name: str, *, nullable: bool, index: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=nullable, index=index
    )


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    create_rules_replica_table(SCHEMA)
    op.create_table(
        "monitoring_unit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        _created_at(),
        schema=SCHEMA,
    )
    op.create_table(
        "unit_jurisdiction",
        sa.Column(
            "unit_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.monitoring_unit.id"), primary_key=True
        ),
        sa.Column("organisation_code", sa.String(64), primary_key=True, index=True),
        schema=SCHEMA,
    )
    op.create_table(
        "member",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "unit_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.monitoring_unit.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("on_leave", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True)),
        _created_at(),
        sa.CheckConstraint(
            "role IN ('chair', 'member', 'secretary', 'appellate_authority', 'auditor')",
            name="role",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "member_credential",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        _member_fk("member_id", nullable=False, index=True),
        _created_at(),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_table(
        "case",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("subject_position", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.monitoring_unit.id"), index=True),
        sa.Column("department", sa.String(64), nullable=False, index=True),
        sa.Column("subject_employee_ref", sa.String(64), nullable=False),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("subject_designation", sa.String(200), nullable=False),
        sa.Column("subject_office", sa.String(200), nullable=False),
        sa.Column("is_group_administrator", sa.Boolean(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("content_excerpt", sa.Text(), nullable=False),
        sa.Column("content_url", sa.String(2048)),
        sa.Column("posted_at", sa.DateTime(timezone=True)),
        sa.Column("rules_alleged", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("reporter_ref", sa.String(64), nullable=False),
        sa.Column("reporter_office_ref", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False, index=True),
        _member_fk("assignee_id", nullable=True, index=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        # A redelivered report can never open a second case for the same subject.
        sa.UniqueConstraint("submission_id", "subject_position"),
        schema=SCHEMA,
    )
    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), nullable=False, index=True
        ),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32), nullable=False),
        _member_fk("actor_member_id", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "notice",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True),
        sa.Column("allegations", sa.Text(), nullable=False),
        sa.Column("reply_due_on", sa.Date(), nullable=False),
        _member_fk("issued_by", nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "reply",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        _member_fk("recorded_by", nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "determination",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True),
        sa.Column("finding", sa.String(16), nullable=False),
        sa.Column("rules_cited", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        _member_fk("recorded_by", nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _member_fk("countersigned_by", nullable=True),
        sa.Column("countersigned_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("finding IN ('violation', 'cleared')", name="finding"),
        # Separation of duties, enforced by the database as well as the service.
        sa.CheckConstraint(
            "countersigned_by IS NULL OR countersigned_by <> recorded_by", name="two_signatures"
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "determination",
        "reply",
        "notice",
        "case_event",
        "case",
        "member_credential",
        "member",
        "unit_jurisdiction",
        "monitoring_unit",
        "rule_reference",
    ):
        op.drop_table(table, schema=SCHEMA)
    drop_messaging_tables(SCHEMA)
