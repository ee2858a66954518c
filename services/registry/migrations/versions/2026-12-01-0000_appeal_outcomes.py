"""The ledger's appeal outcomes: the appellate authority's decision on a violation (upheld,
modified or set aside), a new record linked to the version appealed.

As in registry_0003 and registry_0004 the ledger stays append-only: the one new column is added
nullable (no row is rewritten), it is chained only when set (services/registry/ledger/chain.py),
so every existing content hash still holds, and CHECK constraints say what an appeal outcome
must hold. The record-kind constraint keeps every kind registry_0004 allowed. A partial unique
index keeps one appeal outcome per case.

Downgrade is refused once the ledger holds an appeal outcome: the ledger cannot drop records,
and the old schema cannot hold them.

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-12-01 00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0005"
down_revision: str | None = "registry_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = "ledger_record"

KINDS_V4 = (
    "'violation', 'cleared_finding', 'correction', 'sanction_event', 'permission', "
    "'official_account', 'appeal_outcome'"
)
KINDS_V3 = (
    "'violation', 'cleared_finding', 'correction', 'sanction_event', 'permission', "
    "'official_account'"
)
NEW_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "ck_ledger_record_appeal_outcome",
        "appeal_outcome IN ('upheld', 'modified', 'set_aside')",
    ),
    (
        "ck_ledger_record_appeal_outcome_complete",
        "(record_kind = 'appeal_outcome') = (appeal_outcome IS NOT NULL) AND "
        "(record_kind <> 'appeal_outcome' OR (violation_id IS NOT NULL AND decided_at IS "
        "NOT NULL AND (supersedes_id IS NULL) = (appeal_outcome = 'upheld')))",
    ),
)


def replace_check(name: str, condition: str) -> None:
    op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)


def upgrade() -> None:
    replace_check("ck_ledger_record_record_kind", f"record_kind IN ({KINDS_V4})")
    op.add_column(LEDGER, sa.Column("appeal_outcome", sa.String(16)), schema=SCHEMA)
    for name, condition in NEW_CHECKS:
        op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)
    op.create_index(
        op.f("uq_ledger_record_case_id_appeal_outcome"),
        LEDGER,
        ["case_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("record_kind = 'appeal_outcome'"),
    )


def downgrade() -> None:
    held = op.get_bind().scalar(
        sa.text(f"SELECT count(*) FROM {SCHEMA}.{LEDGER} WHERE record_kind = 'appeal_outcome'")
    )
    if held:
        raise RuntimeError(
            f"The ledger holds {held} appeal outcomes; registry_0004 cannot hold them and the "
            "append-only ledger cannot drop them. Downgrade refused."
        )
    op.drop_index(op.f("uq_ledger_record_case_id_appeal_outcome"), LEDGER, schema=SCHEMA)
    for name, _ in reversed(NEW_CHECKS):
        op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    op.drop_column(LEDGER, "appeal_outcome", schema=SCHEMA)
    replace_check("ck_ledger_record_record_kind", f"record_kind IN ({KINDS_V3})")
