"""The status history serves every submission kind, so it no longer points at report alone.

Revision ID: intake_0004
Revises: intake_0003
Create Date: 2026-11-30 00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0004"
down_revision: str | None = "intake_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"
CONSTRAINT = "fk_submission_status_event_submission_id_report"


def upgrade() -> None:
    op.drop_constraint(CONSTRAINT, "submission_status_event", schema=SCHEMA, type_="foreignkey")


def downgrade() -> None:
    # Only reports had a history before; other kinds' lines go with the constraint's return.
    op.execute(
        sa.text(
            f"DELETE FROM {SCHEMA}.submission_status_event e WHERE NOT EXISTS "
            f"(SELECT 1 FROM {SCHEMA}.report r WHERE r.id = e.submission_id)"
        )
    )
    op.create_foreign_key(
        CONSTRAINT,
        "submission_status_event",
        "report",
        ["submission_id"],
        ["id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
    )
