"""Evidence snapshot files of a department and the hash-chained custody log of each.

Revision ID: intake_0007
Revises: intake_0008
Create Date: 2026-11-30 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0007"
down_revision: str | None = "intake_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column(
            "client_credential_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.client_credential.id"),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("custody_length", sa.Integer(), nullable=False),
        sa.Column("custody_head", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "media_type IN ('image/png', 'image/jpeg', 'application/pdf', 'text/html')",
            name="media_type",
        ),
        sa.CheckConstraint("size_bytes > 0", name="size_bytes"),
        schema=SCHEMA,
    )
    # Duplicate detection looks snapshots up by department and hash.
    op.create_index(
        "ix_intake_evidence_file_department_sha256",
        "evidence_file",
        ["department", "sha256"],
        schema=SCHEMA,
    )
    op.create_table(
        "custody_line",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "evidence_file_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.evidence_file.id"),
            nullable=False,
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("recipient", sa.String(200)),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("line_hash", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "action IN ('uploaded', 'attached', 'read', 'handed_over')", name="action"
        ),
        sa.CheckConstraint("(action = 'handed_over') = (recipient IS NOT NULL)", name="recipient"),
        # Also the index that reads one file's chain in order.
        sa.UniqueConstraint(
            "evidence_file_id", "sequence", name="uq_custody_line_evidence_file_id_sequence"
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("custody_line", schema=SCHEMA)
    op.drop_index("ix_intake_evidence_file_department_sha256", "evidence_file", schema=SCHEMA)
    op.drop_table("evidence_file", schema=SCHEMA)
