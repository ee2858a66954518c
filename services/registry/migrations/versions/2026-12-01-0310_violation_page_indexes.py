"""Indexes that serve a page of violations (GET /v1/violations) over a large ledger from the
index alone: violation versions in ledger order, whole, by department and by platform, each
carrying the other filters' columns (department, platform, recorded_at, rules_cited), so that
a page reads only the rows it returns; and the supersedes link covering the successor's id and
recording time, so that "current or superseded as of a moment" is an index probe.

Revision ID: registry_0010
Revises: registry_0009
Create Date: 2026-12-01 03:10
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0010"
down_revision: str | None = "registry_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = "ledger_record"
# Frozen copy of services/registry/ledger/models.py's VERSION_PREDICATE.
VERSION_PREDICATE = (
    "record_kind IN ('violation', 'correction') OR "
    "(record_kind = 'appeal_outcome' AND appeal_outcome = 'modified')"
)
KEYS: tuple[tuple[str, ...], ...] = (
    ("sequence",),
    ("department", "sequence"),
    ("platform", "sequence"),
)
INCLUDED = ("id", "department", "platform", "recorded_at", "rules_cited")


def upgrade() -> None:
    for key in KEYS:
        op.create_index(
            f"ix_ledger_record_version_{'_'.join(key)}",
            LEDGER,
            list(key),
            schema=SCHEMA,
            postgresql_include=[name for name in INCLUDED if name not in key],
            postgresql_where=VERSION_PREDICATE,
        )
    op.drop_index("uq_ledger_record_supersedes_id", LEDGER, schema=SCHEMA)
    op.create_index(
        "uq_ledger_record_supersedes_id",
        LEDGER,
        ["supersedes_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_include=["recorded_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_record_supersedes_id", LEDGER, schema=SCHEMA)
    op.create_index(
        "uq_ledger_record_supersedes_id", LEDGER, ["supersedes_id"], unique=True, schema=SCHEMA
    )
    for key in KEYS:
        op.drop_index(f"ix_ledger_record_version_{'_'.join(key)}", LEDGER, schema=SCHEMA)
