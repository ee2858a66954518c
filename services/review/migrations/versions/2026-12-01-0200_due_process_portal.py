"""Triage and the employee's side of a notice: the permission check at triage, the
protected-disclosure screen, the notice's delivery to the portal with its receipt, a reply's
extras (representative, attachments, hearing asked for) and extensions of the reply window. A
reply may come through the portal with no member recording it.

Revision ID: review_0009
Revises: review_0008
Create Date: 2026-12-01 02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0009"
down_revision: str | None = "review_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def _case_key() -> sa.Column[object]:
    return sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True)


def _member(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "permission_check",
        _case_key(),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_handles", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("checked_on", sa.Date()),
        sa.Column("record_id", sa.Uuid()),
        sa.Column("record_kind", sa.String(32)),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint(
            "status IN ('pending', 'permitted', 'not_permitted', 'unknown')", name="status"
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "disclosure_screen",
        _case_key(),
        *(
            column
            for name in ("whistleblowing", "public_interest", "private_capacity", "already_public")
            for column in (
                sa.Column(name, sa.Boolean(), nullable=False),
                sa.Column(f"{name}_note", sa.Text(), nullable=False),
            )
        ),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("reasons", sa.Text()),
        _member("screened_by", nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('proceed', 'dismiss', 'confidential_channel')", name="outcome"
        ),
        sa.CheckConstraint("outcome = 'proceed' OR reasons IS NOT NULL", name="reasons"),
        schema=SCHEMA,
    )
    op.create_table(
        "notice_delivery",
        _case_key(),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("portal_notice_id", sa.Uuid()),
        schema=SCHEMA,
    )
    op.create_table(
        "reply_detail",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.reply.case_id"), primary_key=True),
        sa.Column("submitted_via", sa.String(16), nullable=False),
        sa.Column("portal_reply_id", sa.Uuid(), unique=True),
        sa.Column("representative", postgresql.JSONB()),
        sa.Column("attachments", postgresql.JSONB(), nullable=False),
        sa.Column("hearing_requested", sa.Boolean(), nullable=False),
        sa.CheckConstraint("submitted_via IN ('member', 'portal')", name="submitted_via"),
        schema=SCHEMA,
    )
    op.create_table(
        "reply_extension",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), nullable=False, index=True
        ),
        sa.Column("requested_via", sa.String(16), nullable=False),
        _member("requested_by", nullable=True),
        sa.Column("portal_reply_id", sa.Uuid(), unique=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _member("decided_by", nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_reason", sa.Text()),
        sa.Column("due_before", sa.Date(), nullable=False),
        sa.Column("due_after", sa.Date()),
        sa.CheckConstraint("requested_via IN ('member', 'portal')", name="requested_via"),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'refused', 'withdrawn')", name="status"
        ),
        sa.CheckConstraint("working_days > 0", name="working_days"),
        schema=SCHEMA,
    )
    # At most one request awaits the chair per case, however many arrive at once.
    op.create_index(
        "uq_reply_extension_one_pending",
        "reply_extension",
        ["case_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'requested'"),
    )
    op.alter_column("reply", "recorded_by", nullable=True, schema=SCHEMA)


def downgrade() -> None:
    # Replies the employee sent through the portal are attributed to the case's assignee.
    op.execute(
        f"UPDATE {SCHEMA}.reply AS r SET recorded_by = c.assignee_id "
        f'FROM {SCHEMA}."case" AS c WHERE c.id = r.case_id AND r.recorded_by IS NULL'
    )
    op.alter_column("reply", "recorded_by", nullable=False, schema=SCHEMA)
    op.drop_index("uq_reply_extension_one_pending", table_name="reply_extension", schema=SCHEMA)
    for table in (
        "reply_extension",
        "reply_detail",
        "notice_delivery",
        "disclosure_screen",
        "permission_check",
    ):
        op.drop_table(table, schema=SCHEMA)
