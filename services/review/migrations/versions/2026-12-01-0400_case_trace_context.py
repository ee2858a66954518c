"""A case keeps the W3C trace context of the submission that opened it, so that what follows
a person's later step (the chair's countersignature) goes on in the submission's trace.

Revision ID: review_0011
Revises: review_0010
Create Date: 2026-12-01 04:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0011"
down_revision: str | None = "review_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.add_column("case", sa.Column("trace_context", postgresql.JSONB()), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("case", "trace_context", schema=SCHEMA)
