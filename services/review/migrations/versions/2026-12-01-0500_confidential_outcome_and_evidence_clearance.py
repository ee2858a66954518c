"""The way out of the confidential channel (the chair's recorded outcome for a case the
protected-disclosure screen routed there), and each evidence item's clearance for disclosure to
the employee (a redacted description, or the text confirmed free of identifying details, the
snapshot reviewed; or withheld, which no charge may then rely on).

Revision ID: review_0012
Revises: review_0011
Create Date: 2026-12-01 05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0012"
down_revision: str | None = "review_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.create_table(
        "confidential_outcome",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("authority", sa.String(300)),
        sa.Column("reference", sa.String(200)),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("rescreen", postgresql.JSONB()),
        sa.Column("decided_by", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    for column in (
        # null (not yet decided), "cleared" or "withheld".
        sa.Column("disclosure", sa.String(16)),
        # "redacted", "no_identifying_details" or "withheld".
        sa.Column("disclosure_basis", sa.String(32)),
        sa.Column("disclosed_description", sa.Text()),
        sa.Column("snapshot_reviewed", sa.Boolean()),
        sa.Column("disclosure_reason", sa.Text()),
        sa.Column("disclosure_decided_by", sa.Uuid()),
        sa.Column("disclosure_decided_at", sa.DateTime(timezone=True)),
    ):
        op.add_column("case_evidence", column, schema=SCHEMA)


def downgrade() -> None:
    for name in (
        "disclosure_decided_at",
        "disclosure_decided_by",
        "disclosure_reason",
        "snapshot_reviewed",
        "disclosed_description",
        "disclosure_basis",
        "disclosure",
    ):
        op.drop_column("case_evidence", name, schema=SCHEMA)
    op.drop_table("confidential_outcome", schema=SCHEMA)
