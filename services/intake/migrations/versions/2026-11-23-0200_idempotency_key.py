"""The stored answers of Idempotency-Key requests (shared.idempotency).

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-11-23 02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0003"
down_revision: str | None = "intake_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("caller_ref", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_line", sa.String(600), nullable=False),
        sa.Column("request_fingerprint", sa.String(64), nullable=False),
        sa.Column("response_status", sa.SmallInteger()),
        sa.Column("response_headers", postgresql.JSONB()),
        sa.Column("response_body", sa.LargeBinary()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller_ref", "key", name="pk_idempotency_key"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_intake_idempotency_key_expires_at", "idempotency_key", ["expires_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_intake_idempotency_key_expires_at", "idempotency_key", schema=SCHEMA)
    op.drop_table("idempotency_key", schema=SCHEMA)
