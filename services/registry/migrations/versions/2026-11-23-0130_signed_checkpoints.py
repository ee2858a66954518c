"""Signed checkpoints of the ledger's head, append-only like the ledger itself.

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-23 01:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0002"
down_revision: str | None = "registry_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("head_sequence", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("record_count", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        schema=SCHEMA,
    )
    op.execute(
        f"""CREATE FUNCTION "{SCHEMA}".refuse_checkpoint_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{SCHEMA}.ledger_checkpoint is append-only: % refused', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER ledger_checkpoint_append_only BEFORE UPDATE OR DELETE
            ON "{SCHEMA}".ledger_checkpoint
            FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".refuse_checkpoint_change()"""
    )


def downgrade() -> None:
    op.drop_table("ledger_checkpoint", schema=SCHEMA)
    op.execute(f'DROP FUNCTION "{SCHEMA}".refuse_checkpoint_change()')
