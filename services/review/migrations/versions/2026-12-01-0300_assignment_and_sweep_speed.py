"""Assignment in batches and deadline sweeps by index: cases whose load rule is still to be
applied carry their message's correlation id (with a partial index, so the assigner finds them
among millions at once).

Revision ID: review_0010
Revises: review_0009
Create Date: 2026-12-01 01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "review_0010"
down_revision: str | None = "review_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.add_column(
        "case",
        sa.Column("awaiting_assignment_for", sa.Text()),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_case_awaiting_assignment",
        "case",
        ["unit_id", "opened_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("awaiting_assignment_for IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_case_awaiting_assignment", table_name="case", schema=SCHEMA)
    op.drop_column("case", "awaiting_assignment_for", schema=SCHEMA)
