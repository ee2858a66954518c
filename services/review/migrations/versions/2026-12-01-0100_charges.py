"""Charges: one per alleged clause of a case, the case's numbered evidence items they rely on,
the finding per charge of a determination and its recommended penalty, the notice generated
from the charges with its redacted disclosure bundle, and review's replica of the penalties
catalogue (version 1). Cases opened before this revision get their charges drafted here, from
the rules alleged, as a new case would.

Revision ID: review_0008
Revises: review_0007
Create Date: 2026-12-01 01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "review_0008"
down_revision: str | None = "review_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "review"

# registry's penalties catalogue version 1 (registry_0003), same codes; frozen here on purpose.
PENALTIES_V1: tuple[tuple[str, str, str], ...] = (
    ("ED2020-CENSURE", "Censure", "minor"),
    ("ED2020-WITHHOLD-PROMOTION", "Withholding of promotion for a specific period", "minor"),
    ("ED2020-WITHHOLD-INCREMENT", "Withholding of increment for a specific period", "minor"),
    ("ED2020-RECOVERY", "Recovery from pay of a loss caused", "minor"),
    ("ED2020-REDUCTION", "Reduction to a lower post or time-scale", "major"),
    ("ED2020-COMPULSORY-RETIREMENT", "Compulsory retirement", "major"),
    ("ED2020-REMOVAL", "Removal from service", "major"),
    ("ED2020-DISMISSAL", "Dismissal from service", "major"),
)
GROUP_ADMINISTRATOR_RULE = "NOTIF-GROUP-ADMINISTRATOR"


def _now(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "case_evidence",
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("url", sa.String(2048)),
        sa.Column("platform_post_id", sa.String(200)),
        sa.Column("author_handle", sa.String(200)),
        sa.Column("captured_at", sa.DateTime(timezone=True)),
        sa.Column("snapshot_file_id", sa.Uuid()),
        sa.PrimaryKeyConstraint("case_id", "number", name="pk_case_evidence"),
        schema=SCHEMA,
    )
    op.create_table(
        "charge",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("rule_title", sa.String(300), nullable=False),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("particulars", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.ARRAY(sa.Integer()), nullable=False),
        _now("drafted_at"),
        sa.Column("amended_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawal_reason", sa.Text()),
        sa.UniqueConstraint("case_id", "number", name="uq_charge_case_id_number"),
        schema=SCHEMA,
    )
    op.create_index("ix_charge_case_id", "charge", ["case_id"], schema=SCHEMA)
    op.create_index(
        "uq_charge_standing_rule",
        "charge",
        ["case_id", "rule"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.create_table(
        "charge_finding",
        sa.Column("charge_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.charge.id"), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.case.id"), nullable=False),
        sa.Column("finding", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence_relied_on", postgresql.ARRAY(sa.Integer()), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_charge_finding_case_id", "charge_finding", ["case_id"], schema=SCHEMA)
    op.create_table(
        "penalty_reference",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("penalty_class", sa.String(8), nullable=False),
        sa.Column("catalogue_version", sa.Integer(), nullable=False),
        schema=SCHEMA,
    )
    penalties = sa.table(
        "penalty_reference",
        sa.column("code", sa.String()),
        sa.column("title", sa.String()),
        sa.column("penalty_class", sa.String()),
        sa.column("catalogue_version", sa.Integer()),
        schema=SCHEMA,
    )
    op.bulk_insert(
        penalties,
        [
            {"code": code, "title": title, "penalty_class": penalty_class, "catalogue_version": 1}
            for code, title, penalty_class in PENALTIES_V1
        ],
    )
    op.add_column("determination", sa.Column("recommended_penalty", sa.String(64)), schema=SCHEMA)
    op.alter_column("notice", "allegations", nullable=True, schema=SCHEMA)
    op.add_column(
        "notice",
        sa.Column("generated_allegations", postgresql.JSONB(astext_type=sa.Text())),
        schema=SCHEMA,
    )
    op.add_column(
        "notice",
        sa.Column("disclosure_bundle", postgresql.JSONB(astext_type=sa.Text())),
        schema=SCHEMA,
    )
    draft_charges_of_earlier_cases()


def draft_charges_of_earlier_cases() -> None:
    """Every due-process case opened before this revision gets what a new case gets: its
    evidence items (the reported content, then the report's items by number) and one charge
    per alleged rule, plus the group administrator's own charge, relying on every item."""
    op.execute(
        f"""
        INSERT INTO {SCHEMA}.case_evidence (case_id, number, kind, description, url)
        SELECT c.id, 1,
               CASE WHEN c.kind = 'institutional_finding' THEN 'institution_finding'
                    ELSE 'reported_content' END,
               c.content_excerpt, c.content_url
        FROM {SCHEMA}."case" c WHERE c.kind <> 'permission'
        """
    )
    op.execute(
        f"""
        INSERT INTO {SCHEMA}.case_evidence (case_id, number, kind, description)
        SELECT c.id, n + 1, 'report_item',
               'Evidence item ' || n || ' of the report, held by intake'
        FROM {SCHEMA}."case" c, generate_series(1, c.evidence_count) AS n
        WHERE c.kind <> 'permission'
        """
    )
    op.execute(
        f"""
        INSERT INTO {SCHEMA}.charge
            (id, case_id, number, rule, rule_title, basis, particulars, evidence)
        SELECT gen_random_uuid(), drafted.id, drafted.number, drafted.rule,
               COALESCE(r.title, drafted.rule), drafted.basis,
               CASE WHEN drafted.kind = 'institutional_finding' THEN 'As the institution found: '
                    ELSE 'As alleged in the report: ' END || left(drafted.content_excerpt, 500),
               ARRAY(SELECT generate_series(1, drafted.evidence_count + 1))
        FROM (
            SELECT c.id, c.kind, c.content_excerpt, c.evidence_count, rules.rule,
                   CASE WHEN rules.rule = '{GROUP_ADMINISTRATOR_RULE}'
                        AND c.is_group_administrator
                        THEN 'group_administrator' ELSE 'alleged' END AS basis,
                   row_number() OVER (PARTITION BY c.id ORDER BY rules.position) AS number
            FROM {SCHEMA}."case" c,
            LATERAL (
                SELECT DISTINCT ON (rule) rule, position FROM (
                    SELECT alleged.rule, alleged.position
                    FROM unnest(c.rules_alleged) WITH ORDINALITY AS alleged(rule, position)
                    UNION ALL
                    SELECT '{GROUP_ADMINISTRATOR_RULE}', 1000 WHERE c.is_group_administrator
                ) AS candidates ORDER BY rule, position
            ) AS rules
            WHERE c.kind <> 'permission'
        ) AS drafted
        LEFT JOIN {SCHEMA}.rule_reference r ON r.code = drafted.rule
        """
    )


def downgrade() -> None:
    op.execute(
        f"UPDATE {SCHEMA}.notice SET allegations = generated_allegations::text "
        "WHERE allegations IS NULL"
    )
    op.drop_column("notice", "disclosure_bundle", schema=SCHEMA)
    op.drop_column("notice", "generated_allegations", schema=SCHEMA)
    op.alter_column("notice", "allegations", nullable=False, schema=SCHEMA)
    op.drop_column("determination", "recommended_penalty", schema=SCHEMA)
    op.drop_table("penalty_reference", schema=SCHEMA)
    op.drop_index("ix_charge_finding_case_id", table_name="charge_finding", schema=SCHEMA)
    op.drop_table("charge_finding", schema=SCHEMA)
    op.drop_index("uq_charge_standing_rule", table_name="charge", schema=SCHEMA)
    op.drop_index("ix_charge_case_id", table_name="charge", schema=SCHEMA)
    op.drop_table("charge", schema=SCHEMA)
    op.drop_table("case_evidence", schema=SCHEMA)
