"""The ledger's permission records: a monitoring unit's decisions on requests to use social
media, personal (`permission`) or for a department's official account (`official_account`),
granted or refused.

As in registry_0003 the ledger stays append-only: the new columns are added nullable (no row
is rewritten, no row trigger fires), CHECK constraints say what each kind must hold, and the
added columns are chained only when set (services/registry/ledger/chain.py), so every existing
content hash still holds. A partial unique index keeps one permission decision per case.

Downgrade is refused once the ledger holds a permission record: the ledger cannot drop
records, and the old schema cannot hold them.

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-11-30 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "registry_0004"
down_revision: str | None = "registry_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = "ledger_record"

KINDS_V3 = (
    "'violation', 'cleared_finding', 'correction', 'sanction_event', 'permission', "
    "'official_account'"
)
KINDS_V2 = "'violation', 'cleared_finding', 'correction', 'sanction_event'"
FINDING_PRESENT = (
    "employee_ref IS NOT NULL AND employee_name IS NOT NULL AND rules_cited IS NOT NULL AND "
    "platform IS NOT NULL AND determined_by IS NOT NULL AND reported_at IS NOT NULL"
)
NEW_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "ck_ledger_record_permission_complete",
        "record_kind NOT IN ('permission', 'official_account') OR (decision IS NOT NULL AND "
        "platform IS NOT NULL AND account_handle IS NOT NULL AND purpose IS NOT NULL AND "
        "conditions IS NOT NULL AND determined_by IS NOT NULL AND decided_at IS NOT NULL)",
    ),
    (
        "ck_ledger_record_permission_names_employee",
        "record_kind <> 'permission' OR (employee_ref IS NOT NULL AND employee_name IS NOT NULL)",
    ),
    (
        "ck_ledger_record_official_account_names_moderators",
        "record_kind <> 'official_account' OR moderators IS NOT NULL",
    ),
    (
        "ck_ledger_record_decision",
        "decision IN ('granted', 'granted_with_conditions', 'refused')",
    ),
    ("ck_ledger_record_expires_after_effective", "expires_on >= effective_on"),
)
NEW_COLUMNS = (
    "decision",
    "conditions",
    "account_handle",
    "account_url",
    "purpose",
    "account_purpose",
    "moderators",
    "expires_on",
    "renewal_of",
    "decided_at",
)


def replace_check(name: str, condition: str) -> None:
    op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)


def upgrade() -> None:
    replace_check("ck_ledger_record_record_kind", f"record_kind IN ({KINDS_V3})")
    replace_check(
        "ck_ledger_record_determination_complete",
        "record_kind IN ('sanction_event', 'permission', 'official_account') OR "
        f"({FINDING_PRESENT})",
    )
    for column in (
        sa.Column("decision", sa.String(32)),
        sa.Column("conditions", postgresql.ARRAY(sa.Text())),
        sa.Column("account_handle", sa.Text()),
        sa.Column("account_url", sa.Text()),
        sa.Column("purpose", sa.Text()),
        sa.Column("account_purpose", sa.String(32)),
        sa.Column("moderators", postgresql.JSONB()),
        sa.Column("expires_on", sa.Date()),
        sa.Column("renewal_of", sa.Uuid()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    ):
        op.add_column(LEDGER, column, schema=SCHEMA)
    op.create_foreign_key(
        op.f("fk_ledger_record_renewal_of_ledger_record"),
        LEDGER,
        LEDGER,
        ["renewal_of"],
        ["id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
    )
    for name, condition in NEW_CHECKS:
        op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)
    op.create_index(
        op.f("uq_ledger_record_case_id_permission"),
        LEDGER,
        ["case_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("record_kind IN ('permission', 'official_account')"),
    )


def downgrade() -> None:
    held = op.get_bind().scalar(
        sa.text(
            f"SELECT count(*) FROM {SCHEMA}.{LEDGER} "
            "WHERE record_kind IN ('permission', 'official_account')"
        )
    )
    if held:
        raise RuntimeError(
            f"The ledger holds {held} permission records; registry_0003 cannot hold them and "
            "the append-only ledger cannot drop them. Downgrade refused."
        )
    op.drop_index(op.f("uq_ledger_record_case_id_permission"), LEDGER, schema=SCHEMA)
    for name, _ in reversed(NEW_CHECKS):
        op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    # Dropping the columns drops their foreign key with them.
    for column in reversed(NEW_COLUMNS):
        op.drop_column(LEDGER, column, schema=SCHEMA)
    replace_check(
        "ck_ledger_record_determination_complete",
        f"record_kind = 'sanction_event' OR ({FINDING_PRESENT})",
    )
    replace_check("ck_ledger_record_record_kind", f"record_kind IN ({KINDS_V2})")
