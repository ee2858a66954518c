"""Hearings, deadline escalations and members' standing: the hearing table, the escalation
records, the (state, updated_at) index the deadline scan reads, and the history of members
joining, leaving and returning.

Revision ID: review_0002
Revises: review_0001
Create Date: 2026-11-23 12:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0002"
down_revision: str | None = "review_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"


def _member_fk(name: str, *, nullable: bool, index: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.member.id"), nullable=nullable, index=index
    )


def _case_fk() -> sa.Column[object]:
    return sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), primary_key=True)


def upgrade() -> None:
    # The state index gains updated_at, so the deadline scan reads only the overdue slice of
    # each state; a lookup by state alone still uses it. Same name under the convention.
    op.drop_index("ix_review_case_state", table_name="case", schema=SCHEMA)
    op.create_index(None, "case", ["state", "updated_at"], schema=SCHEMA)
    op.create_table(
        "hearing",
        _case_fk(),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("held_on", sa.Date()),
        sa.Column("attendees", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("minutes", sa.Text()),
        sa.Column("waiver_reason", sa.Text()),
        _member_fk("recorded_by", nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "(outcome = 'held' AND held_on IS NOT NULL AND minutes IS NOT NULL "
            "AND cardinality(attendees) > 0 AND waiver_reason IS NULL) OR "
            "(outcome = 'waived' AND waiver_reason IS NOT NULL AND held_on IS NULL)",
            name="held_or_waived",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "case_escalation",
        _case_fk(),
        # One escalation per case and state: concurrent sweeps cannot escalate twice.
        sa.Column("state", sa.String(32), primary_key=True),
        sa.Column("deadline_working_days", sa.Integer(), nullable=False),
        sa.Column("untouched_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "member_event",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        _member_fk("member_id", nullable=False, index=True),
        sa.Column("change", sa.String(32), nullable=False),
        _member_fk("actor_member_id", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "change IN ('joined', 'deactivated', 'leave_started', 'leave_ended')", name="change"
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    # Without the hearing step, a case that concluded one goes back to where it stood before.
    op.execute(
        f"""UPDATE "{SCHEMA}"."case" AS c SET state = e.from_state
            FROM "{SCHEMA}".case_event AS e
            WHERE c.state = 'hearing_concluded' AND e.case_id = c.id
              AND e.to_state = 'hearing_concluded'"""
    )
    op.drop_table("member_event", schema=SCHEMA)
    op.drop_table("case_escalation", schema=SCHEMA)
    op.drop_table("hearing", schema=SCHEMA)
    op.drop_index("ix_review_case_state", table_name="case", schema=SCHEMA)
    op.create_index(None, "case", ["state"], schema=SCHEMA)
