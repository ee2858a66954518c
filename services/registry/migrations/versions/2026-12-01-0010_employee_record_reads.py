"""The log of reads of employees' personal records: one row per read (who, as what role, whose
record, why, when). Append-only like the ledger: a trigger refuses UPDATE, DELETE and TRUNCATE,
so the log an employee is shown is every read there was. For the same reason the downgrade is
refused once the log holds a read.

Revision ID: registry_0006
Revises: registry_0005
Create Date: 2026-12-01 00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0006"
down_revision: str | None = "registry_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
TABLE = "employee_record_read"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reader_credential_id", sa.Uuid(), nullable=False),
        sa.Column("reader_label", sa.String(200), nullable=False),
        sa.Column("reader_role", sa.String(32), nullable=False),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "read_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employee_record_read")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_employee_record_read_employee_ref_read_at"),
        TABLE,
        ["employee_ref", "read_at"],
        schema=SCHEMA,
    )
    op.execute(
        f"""CREATE FUNCTION "{SCHEMA}".refuse_record_read_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{SCHEMA}.{TABLE} is append-only: % refused', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE
            ON "{SCHEMA}".{TABLE}
            FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".refuse_record_read_change()"""
    )
    op.execute(
        f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE
            ON "{SCHEMA}".{TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION "{SCHEMA}".refuse_record_read_change()"""
    )


def downgrade() -> None:
    held = op.get_bind().scalar(sa.text(f"SELECT count(*) FROM {SCHEMA}.{TABLE}"))
    if held:
        raise RuntimeError(
            f"The read log holds {held} reads of employees' records; dropping it would erase "
            "what employees are entitled to see. Downgrade refused."
        )
    op.drop_table(TABLE, schema=SCHEMA)
    op.execute(f'DROP FUNCTION "{SCHEMA}".refuse_record_read_change()')
