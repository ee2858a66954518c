"""Institutional findings: the detail of a case opened from an MTI's violator-list row (the
institution, its finding reference, rule, platform, finding and date, and whether the unit
accepted the institution's record of notice and reply).

Revision ID: review_0004
Revises: review_0003
Create Date: 2026-11-30 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "review_0004"
down_revision: str | None = "review_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.create_table(
        "institutional_finding",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True),
        # One case per violator-list row, however often its message arrives.
        sa.Column("entry_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(64), nullable=False, index=True),
        sa.Column("institution_finding_ref", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("notice_and_reply_on_record", sa.Boolean(), nullable=False),
        sa.Column("record_accepted_by", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id")),
        sa.Column("record_accepted_at", sa.DateTime(timezone=True)),
        # The institution's record is accepted only where the row says it exists, and then
        # with who accepted it and when.
        sa.CheckConstraint(
            "(record_accepted_at IS NULL AND record_accepted_by IS NULL) OR "
            "(record_accepted_at IS NOT NULL AND record_accepted_by IS NOT NULL "
            "AND notice_and_reply_on_record)",
            name="record_accepted_only_when_on_record",
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("institutional_finding", schema=SCHEMA)
