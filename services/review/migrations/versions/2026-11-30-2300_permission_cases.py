"""Permission cases: the request a permission case decides, and the unit's decision on it.

Revision ID: review_0003
Revises: review_0002
Create Date: 2026-11-30 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0003"
down_revision: str | None = "review_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def _case_fk() -> sa.Column[object]:
    return sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "permission_application",
        _case_fk(),
        sa.Column("request_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_handle", sa.String(200), nullable=False),
        sa.Column("account_url", sa.String(2048)),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("account_purpose", sa.String(32)),
        sa.Column("moderators", postgresql.JSONB(), nullable=False),
        sa.Column("applicant", postgresql.JSONB()),
        sa.Column("renewal_of", sa.Uuid()),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "permission_decision",
        _case_fk(),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("conditions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), index=True),
        sa.Column("decided_by", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewal_reminded_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("permission_decision", schema=SCHEMA)
    op.drop_table("permission_application", schema=SCHEMA)
    # Without their requests, permission cases would pass for report cases: they go too.
    for table in ("case_escalation", "case_event"):
        op.execute(
            sa.text(
                f"DELETE FROM {SCHEMA}.{table} WHERE case_id IN "
                f"(SELECT id FROM {SCHEMA}.\"case\" WHERE kind = 'permission')"
            )
        )
    op.execute(sa.text(f"DELETE FROM {SCHEMA}.\"case\" WHERE kind = 'permission'"))
