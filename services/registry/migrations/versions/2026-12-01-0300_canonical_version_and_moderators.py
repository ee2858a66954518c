"""The ledger's canonical form version 2, and official accounts that must name moderators.

canonical_version: which canonical form a record's hashes are in (services/registry/ledger/
chain.py). Every record already in the ledger is in version 1 (the default, written without
touching a row); every record appended from now on is in version 2, which the database itself
can recompute, so GET /v1/audit/verify checks it inside PostgreSQL.

official_account_names_moderators: a missing list of moderators used to be stored as JSON
null, which is NOT NULL to SQL, so the CHECK let it through. JSON null now counts as
missing (and the model writes SQL NULL for None). Existing rows are checked when the
constraint is added: an official account without moderators already in the ledger stops the
upgrade rather than be silently accepted.

Revision ID: registry_0009
Revises: registry_0008
Create Date: 2026-12-01 03:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0009"
down_revision: str | None = "registry_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = "ledger_record"
MODERATORS_CHECK = "ck_ledger_record_official_account_names_moderators"
# Frozen copies of services/registry/ledger/models.py's OFFICIAL_ACCOUNT_NAMES_MODERATORS.
NAMES_MODERATORS = (
    "record_kind <> 'official_account' OR personal_salt IS NULL OR (moderators IS NOT NULL AND "
    "moderators <> 'null'::jsonb)"
)
NAMES_MODERATORS_BEFORE = (
    "record_kind <> 'official_account' OR personal_salt IS NULL OR moderators IS NOT NULL"
)


def upgrade() -> None:
    op.add_column(
        LEDGER,
        sa.Column("canonical_version", sa.SmallInteger(), server_default=sa.text("1")),
        schema=SCHEMA,
    )
    op.alter_column(LEDGER, "canonical_version", nullable=False, schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_ledger_record_canonical_version"),
        LEDGER,
        "canonical_version IN (1, 2)",
        schema=SCHEMA,
    )
    op.drop_constraint(op.f(MODERATORS_CHECK), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(op.f(MODERATORS_CHECK), LEDGER, NAMES_MODERATORS, schema=SCHEMA)


def downgrade() -> None:
    op.drop_constraint(op.f(MODERATORS_CHECK), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(
        op.f(MODERATORS_CHECK), LEDGER, NAMES_MODERATORS_BEFORE, schema=SCHEMA
    )
    op.drop_constraint(
        op.f("ck_ledger_record_canonical_version"), LEDGER, schema=SCHEMA, type_="check"
    )
    op.drop_column(LEDGER, "canonical_version", schema=SCHEMA)
