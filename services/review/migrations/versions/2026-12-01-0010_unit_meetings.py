"""A monitoring unit's meetings: date, members present, guests, agenda and decisions.

Revision ID: review_0006
Revises: review_0005
Create Date: 2026-12-01 00:10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0006"
down_revision: str | None = "review_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.create_table(
        "unit_meeting",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "unit_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.monitoring_unit.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendee_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("guests", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("decisions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("unit_meeting", schema=SCHEMA)
