"""MTI violator lists: the posted batch with its per-row verdicts, and one entry per accepted row.

Revision ID: intake_0006
Revises: intake_0009
Create Date: 2026-11-30 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0006"
down_revision: str | None = "intake_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "violator_list_batch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("batch_key", sa.String(128), nullable=False),
        sa.Column(
            "client_credential_id",
            sa.Uuid(),
            sa.ForeignKey(
                f"{SCHEMA}.client_credential.id",
                name="fk_violator_list_batch_client_credential_id_client_credential",
            ),
            nullable=False,
        ),
        sa.Column("source_format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("accepted_rows", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.Integer(), nullable=False),
        sa.Column("rejections", postgresql.JSONB(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_violator_list_batch"),
        sa.UniqueConstraint(
            "institution", "batch_key", name="uq_violator_list_batch_institution_batch_key"
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "violator_list_entry",
        sa.Column("id", sa.Uuid(), server_default=sa.func.gen_random_uuid(), nullable=False),
        # No foreign key to the batch: see ViolatorListEntry.batch_id.
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(64), nullable=False),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("designation", sa.String(200), nullable=False),
        sa.Column("office", sa.String(200)),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("institution_finding_ref", sa.String(64), nullable=False),
        sa.Column("notice_and_reply_on_record", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_violator_list_entry"),
        sa.UniqueConstraint(
            "batch_id", "row_number", name="uq_violator_list_entry_batch_id_row_number"
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    # Entries' status lines go with them: the history serves only submissions that exist.
    op.execute(
        sa.text(
            f"DELETE FROM {SCHEMA}.submission_status_event e USING {SCHEMA}.violator_list_entry v "
            "WHERE v.id = e.submission_id"
        )
    )
    op.drop_table("violator_list_entry", schema=SCHEMA)
    op.drop_table("violator_list_batch", schema=SCHEMA)
