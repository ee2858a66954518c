"""A report's evidence names uploaded snapshot files.

Revision ID: intake_0009
Revises: intake_0007
Create Date: 2026-11-30 23:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0009"
down_revision: str | None = "intake_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.add_column(
        "evidence_item",
        sa.Column(
            "snapshot_file_id",
            sa.Uuid(),
            sa.ForeignKey(
                f"{SCHEMA}.evidence_file.id",
                name="fk_evidence_item_snapshot_file_id_evidence_file",
            ),
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_intake_evidence_item_snapshot_file_id",
        "evidence_item",
        ["snapshot_file_id"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("ix_intake_evidence_item_snapshot_file_id", "evidence_item", schema=SCHEMA)
    op.drop_column("evidence_item", "snapshot_file_id", schema=SCHEMA)
