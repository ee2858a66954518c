"""Reports name uploaded snapshot files in their evidence, and a repeat links to the open report.

Both serve duplicate detection (a repeat is the same subject with the same link or snapshot),
which is why they come together: the snapshot reference, the link to the open report, and the
index on the subject's reference that the detection starts from.

Revision ID: intake_0009
Revises: intake_0007
Create Date: 2026-11-30 23:30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0009"
down_revision: str | None = "intake_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.add_column(
        "evidence_item",
        sa.Column(
            "snapshot_file_id",
            sa.Uuid(),
            sa.ForeignKey(
                f"{SCHEMA}.evidence_file.id",
                name="fk_evidence_item_snapshot_file_id_evidence_file",
            ),
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_intake_evidence_item_snapshot_file_id",
        "evidence_item",
        ["snapshot_file_id"],
        schema=SCHEMA,
    )
    op.add_column(
        "report",
        sa.Column(
            "duplicate_of",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.report.id", name="fk_report_duplicate_of_report"),
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_intake_report_duplicate_of", "report", ["duplicate_of"], schema=SCHEMA)
    op.create_index(
        "ix_intake_report_subject_employee_ref", "report_subject", ["employee_ref"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_intake_report_subject_employee_ref", "report_subject", schema=SCHEMA)
    op.drop_index("ix_intake_report_duplicate_of", "report", schema=SCHEMA)
    op.drop_column("report", "duplicate_of", schema=SCHEMA)
    op.drop_index("ix_intake_evidence_item_snapshot_file_id", "evidence_item", schema=SCHEMA)
    op.drop_column("evidence_item", "snapshot_file_id", schema=SCHEMA)
