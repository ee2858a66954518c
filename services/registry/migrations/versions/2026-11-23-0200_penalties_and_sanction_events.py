"""The penalties catalogue (version 1, Efficiency and Discipline Rules 2020), and the ledger's
new record kinds: sanction events recorded by competent authorities, and corrections that
supersede a violation.

The ledger stays append-only: its columns are added (all nullable, so no row is rewritten and
no row trigger fires), and the determination columns a sanction event does not carry become
nullable, with CHECK constraints saying what each kind must hold. Added columns are chained
when set (services/registry/ledger/chain.py), so every existing content hash still holds.

Downgrade is refused once the ledger holds a sanction event or a correction: the ledger
cannot drop records, and the old schema cannot hold them.

Revision ID: registry_0003
Revises: registry_0002
Create Date: 2026-11-23 02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0003"
down_revision: str | None = "registry_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = "ledger_record"

# The catalogue as published in this migration; frozen here on purpose, so a fresh database
# always gets version 1 exactly as it was, whatever later code does. (code, title, class,
# time-bound, description)
PENALTIES_V1: tuple[tuple[str, str, str, bool, str], ...] = (
    (
        "ED2020-CENSURE",
        "Censure",
        "minor",
        False,
        "A formal reproof for good and sufficient reasons, kept on the servant's record.",
    ),
    (
        "ED2020-WITHHOLD-PROMOTION",
        "Withholding of promotion for a specific period",
        "minor",
        True,
        "Promotion withheld for the period the order states, otherwise than for unfitness.",
    ),
    (
        "ED2020-WITHHOLD-INCREMENT",
        "Withholding of increment for a specific period",
        "minor",
        True,
        "Increments withheld for the period the order states, otherwise than for unfitness.",
    ),
    (
        "ED2020-RECOVERY",
        "Recovery from pay of a loss caused",
        "minor",
        False,
        "Recovery from pay of the whole or part of a pecuniary loss caused to the government "
        "by negligence or breach of orders.",
    ),
    (
        "ED2020-REDUCTION",
        "Reduction to a lower post or time-scale",
        "major",
        False,
        "Reduction to a lower post or time-scale, or to a lower stage in a time-scale.",
    ),
    (
        "ED2020-COMPULSORY-RETIREMENT",
        "Compulsory retirement",
        "major",
        False,
        "Retirement from service imposed as a penalty.",
    ),
    (
        "ED2020-REMOVAL",
        "Removal from service",
        "major",
        False,
        "Removal from service; not in itself a bar to future employment under the government.",
    ),
    (
        "ED2020-DISMISSAL",
        "Dismissal from service",
        "major",
        False,
        "Dismissal from service; ordinarily a bar to future employment under the government.",
    ),
)

# The determination columns a sanction event leaves null (it points at its violation instead).
DETERMINATION_COLUMNS = (
    "employee_ref",
    "employee_name",
    "rules_cited",
    "platform",
    "determined_by",
    "reported_at",
)
KINDS_V2 = "'violation', 'cleared_finding', 'correction', 'sanction_event'"
KINDS_V1 = "'violation', 'cleared_finding'"


def upgrade() -> None:
    create_penalty_catalogue()
    publish_penalties_v1()
    extend_ledger()


def create_penalty_catalogue() -> None:
    op.create_table(
        "penalty_catalogue_version",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "penalty",
        sa.Column(
            "catalogue_version",
            sa.Integer(),
            sa.ForeignKey(f"{SCHEMA}.penalty_catalogue_version.version"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("penalty_class", sa.String(8), nullable=False),
        sa.Column("time_bound", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("penalty_class IN ('minor', 'major')", name="penalty_class"),
        schema=SCHEMA,
    )


def publish_penalties_v1() -> None:
    op.bulk_insert(
        sa.table(
            "penalty_catalogue_version",
            sa.column("version", sa.Integer()),
            sa.column("note", sa.Text()),
            schema=SCHEMA,
        ),
        [
            {
                "version": 1,
                "note": "Initial catalogue: the minor and major penalties of the Civil Servants "
                "(Efficiency and Discipline) Rules 2020.",
            }
        ],
    )
    op.bulk_insert(
        sa.table(
            "penalty",
            sa.column("catalogue_version", sa.Integer()),
            sa.column("code", sa.String()),
            sa.column("title", sa.String()),
            sa.column("penalty_class", sa.String()),
            sa.column("time_bound", sa.Boolean()),
            sa.column("description", sa.Text()),
            sa.column("position", sa.Integer()),
            schema=SCHEMA,
        ),
        [
            {
                "catalogue_version": 1,
                "code": code,
                "title": title,
                "penalty_class": penalty_class,
                "time_bound": time_bound,
                "description": description,
                "position": position,
            }
            for position, (code, title, penalty_class, time_bound, description) in enumerate(
                PENALTIES_V1, start=1
            )
        ],
    )


def extend_ledger() -> None:
    op.drop_constraint(op.f("ck_ledger_record_record_kind"), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(
        op.f("ck_ledger_record_record_kind"), LEDGER, f"record_kind IN ({KINDS_V2})", schema=SCHEMA
    )
    for column in DETERMINATION_COLUMNS:
        op.alter_column(LEDGER, column, nullable=True, schema=SCHEMA)
    for column in (
        sa.Column("violation_id", sa.Uuid()),
        sa.Column("sanction_id", sa.Uuid()),
        sa.Column("sanction_event", sa.String(16)),
        sa.Column("penalty_code", sa.String(64)),
        sa.Column("penalty_catalogue_version", sa.Integer()),
        sa.Column("period_months", sa.Integer()),
        sa.Column("order_reference", sa.String(100)),
        sa.Column("recorded_by_id", sa.Uuid()),
        sa.Column("recorded_by_label", sa.String(200)),
    ):
        op.add_column(LEDGER, column, schema=SCHEMA)
    for column in ("violation_id", "sanction_id"):
        op.create_foreign_key(
            op.f(f"fk_ledger_record_{column}_ledger_record"),
            LEDGER,
            LEDGER,
            [column],
            ["id"],
            source_schema=SCHEMA,
            referent_schema=SCHEMA,
        )
    op.create_foreign_key(
        op.f("fk_ledger_record_penalty_catalogue_version_penalty"),
        LEDGER,
        "penalty",
        ["penalty_catalogue_version", "penalty_code"],
        ["catalogue_version", "code"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
    )
    determination_present = " AND ".join(f"{c} IS NOT NULL" for c in DETERMINATION_COLUMNS)
    sanction_present = " AND ".join(
        f"{c} IS NOT NULL"
        for c in (
            "violation_id",
            "sanction_id",
            "sanction_event",
            "order_reference",
            "recorded_by_id",
            "recorded_by_label",
        )
    )
    for name, condition in (
        (
            "ck_ledger_record_determination_complete",
            f"record_kind = 'sanction_event' OR ({determination_present})",
        ),
        (
            "ck_ledger_record_sanction_event_complete",
            f"record_kind <> 'sanction_event' OR ({sanction_present})",
        ),
        (
            "ck_ledger_record_sanction_event",
            "sanction_event IN ('imposed', 'stayed', 'varied', 'quashed', 'spent', 'expunged')",
        ),
        ("ck_ledger_record_period_months_positive", "period_months >= 1"),
    ):
        op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)
    replace_original_index(where=f"supersedes_id IS NULL AND record_kind IN ({KINDS_V1})")
    # History is linear: a record is superseded at most once.
    op.create_index(
        op.f("uq_ledger_record_supersedes_id"),
        LEDGER,
        ["supersedes_id"],
        unique=True,
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_ledger_record_violation_id"), LEDGER, ["violation_id"], schema=SCHEMA)
    op.create_index(op.f("ix_ledger_record_sanction_id"), LEDGER, ["sanction_id"], schema=SCHEMA)
    # One order, one event per violation, however its reference is capitalised.
    op.create_index(
        op.f("uq_ledger_record_violation_id_order_reference"),
        LEDGER,
        ["violation_id", sa.text("lower(order_reference)")],
        unique=True,
        schema=SCHEMA,
    )


def replace_original_index(*, where: str) -> None:
    """One original determination per case and kind. Sanction events copy their violation's
    case id and supersede nothing, so the index is now limited to the determination kinds."""
    op.drop_index(op.f("uq_ledger_record_case_id_record_kind"), LEDGER, schema=SCHEMA)
    op.create_index(
        op.f("uq_ledger_record_case_id_record_kind"),
        LEDGER,
        ["case_id", "record_kind"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text(where),
    )


def downgrade() -> None:
    held = op.get_bind().scalar(
        sa.text(
            f"SELECT count(*) FROM {SCHEMA}.{LEDGER} "
            "WHERE record_kind IN ('correction', 'sanction_event')"
        )
    )
    if held:
        raise RuntimeError(
            f"The ledger holds {held} sanction events or corrections; registry_0002 cannot "
            "hold them and the append-only ledger cannot drop them. Downgrade refused."
        )
    for index in (
        "uq_ledger_record_violation_id_order_reference",
        "ix_ledger_record_sanction_id",
        "ix_ledger_record_violation_id",
        "uq_ledger_record_supersedes_id",
    ):
        op.drop_index(op.f(index), LEDGER, schema=SCHEMA)
    replace_original_index(where="supersedes_id IS NULL")
    for name in (
        "ck_ledger_record_period_months_positive",
        "ck_ledger_record_sanction_event",
        "ck_ledger_record_sanction_event_complete",
        "ck_ledger_record_determination_complete",
    ):
        op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    # Dropping the columns drops their foreign keys with them.
    for column in (
        "recorded_by_label",
        "recorded_by_id",
        "order_reference",
        "period_months",
        "penalty_catalogue_version",
        "penalty_code",
        "sanction_event",
        "sanction_id",
        "violation_id",
    ):
        op.drop_column(LEDGER, column, schema=SCHEMA)
    for column in DETERMINATION_COLUMNS:
        op.alter_column(LEDGER, column, nullable=False, schema=SCHEMA)
    op.drop_constraint(op.f("ck_ledger_record_record_kind"), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(
        op.f("ck_ledger_record_record_kind"), LEDGER, f"record_kind IN ({KINDS_V1})", schema=SCHEMA
    )
    op.drop_table("penalty", schema=SCHEMA)
    op.drop_table("penalty_catalogue_version", schema=SCHEMA)
