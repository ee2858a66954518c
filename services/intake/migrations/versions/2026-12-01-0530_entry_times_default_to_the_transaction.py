"""A violator-list entry's times, and a status line's, default to the transaction's time, so
that a list's COPY leaves them to the database: made in Python, two timestamps per entry and one
per status line were most of the CPU of encoding a 100,000-row list's records.

Revision ID: intake_0013
Revises: intake_0011
Create Date: 2026-12-01 05:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0013"
down_revision: str | None = "intake_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"
DEFAULTED = (
    ("violator_list_entry", "received_at"),
    ("violator_list_entry", "status_changed_at"),
    ("submission_status_event", "occurred_at"),
)


def upgrade() -> None:
    for table, column in DEFAULTED:
        op.alter_column(table, column, server_default=sa.func.now(), schema=SCHEMA)


def downgrade() -> None:
    for table, column in DEFAULTED:
        op.alter_column(table, column, server_default=None, schema=SCHEMA)
