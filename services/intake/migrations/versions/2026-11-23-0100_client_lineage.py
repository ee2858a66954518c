"""Client credentials name their client, so a rotated secret stays the same client.

Revision ID: intake_0002
Revises: intake_0001
Create Date: 2026-11-23 01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0002"
down_revision: str | None = "intake_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.add_column("client_credential", sa.Column("client_id", sa.Uuid()), schema=SCHEMA)
    # Every credential issued so far is its client's first.
    op.execute(f"UPDATE {SCHEMA}.client_credential SET client_id = id")
    op.alter_column("client_credential", "client_id", nullable=False, schema=SCHEMA)
    op.create_index(
        "ix_intake_client_credential_client_id", "client_credential", ["client_id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_intake_client_credential_client_id", "client_credential", schema=SCHEMA)
    op.drop_column("client_credential", "client_id", schema=SCHEMA)
