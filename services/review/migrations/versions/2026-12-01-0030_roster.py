"""Organisations' rosters: each employee's office and supervisor, for chain-of-command conflicts.

Revision ID: review_0007
Revises: review_0006
Create Date: 2026-12-01 00:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "review_0007"
down_revision: str | None = "review_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.create_table(
        "roster_entry",
        sa.Column("organisation_code", sa.String(64), primary_key=True),
        sa.Column("employee_ref", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("designation", sa.String(200), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        sa.Column("reports_to", sa.String(64)),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("roster_entry", schema=SCHEMA)
