"""Appeals: the employee's appeal against a recorded violation (grounds, the day filed, who
recorded it) and the appellate authority's decision (outcome, reasons, a modified finding).

Revision ID: review_0005
Revises: review_0004
Create Date: 2026-12-01 00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0005"
down_revision: str | None = "review_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def upgrade() -> None:
    op.create_table(
        "appeal",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(16)),
        sa.Column("decision_reasons", sa.Text()),
        sa.Column("modified_rules_cited", postgresql.ARRAY(sa.String(64))),
        sa.Column("modified_finding", sa.Text()),
        sa.Column("decided_by", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id")),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("outcome IN ('upheld', 'modified', 'set_aside')", name="outcome"),
        sa.CheckConstraint(
            "(outcome IS NULL AND decision_reasons IS NULL AND decided_by IS NULL AND "
            "decided_at IS NULL) OR (outcome IS NOT NULL AND decision_reasons IS NOT NULL AND "
            "decided_by IS NOT NULL AND decided_at IS NOT NULL)",
            name="decision_complete",
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("appeal", schema=SCHEMA)
