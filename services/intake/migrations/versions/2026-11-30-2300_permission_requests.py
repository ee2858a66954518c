"""Permission requests from departmental portals and the moderators named for official
accounts.

Revision ID: intake_0005
Revises: intake_0004
Create Date: 2026-11-30 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0005"
down_revision: str | None = "intake_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "permission_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("department", sa.String(64), nullable=False, index=True),
        sa.Column(
            "client_credential_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.client_credential.id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_handle", sa.String(200), nullable=False),
        sa.Column("account_url", sa.String(2048)),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("account_purpose", sa.String(32)),
        sa.Column("applicant_employee_ref", sa.String(64)),
        sa.Column("applicant_name", sa.String(200)),
        sa.Column("applicant_designation", sa.String(200)),
        sa.Column("applicant_office", sa.String(200)),
        sa.Column("renewal_of", sa.Uuid()),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        # A personal request names its applicant; an official account its purpose.
        sa.CheckConstraint(
            "(kind = 'personal' AND applicant_employee_ref IS NOT NULL "
            "AND account_purpose IS NULL) OR "
            "(kind = 'official_account' AND applicant_employee_ref IS NULL "
            "AND account_purpose IS NOT NULL)",
            name="kind_fields",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "account_moderator",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "permission_request_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.permission_request.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("designation", sa.String(200), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("account_moderator", schema=SCHEMA)
    # Their status lines go with them: the history holds no other kind's rows by this id.
    op.execute(
        sa.text(
            f"DELETE FROM {SCHEMA}.submission_status_event e WHERE EXISTS "
            f"(SELECT 1 FROM {SCHEMA}.permission_request p WHERE p.id = e.submission_id)"
        )
    )
    op.drop_table("permission_request", schema=SCHEMA)
