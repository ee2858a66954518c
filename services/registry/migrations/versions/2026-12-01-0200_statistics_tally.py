"""The statistics tally: the counts dashboards read, kept by the database as the ledger grows,
and the indexes that make reading the ledger at volume fast (records recorded after a moment;
a platform's records in ledger order).

statistics_tally holds, per department (and '*' for all departments together), measure,
month of the effective date (and '-infinity' for all months together) and key, how many things are counted as the ledger stands now:
current violation versions (measure `violation`, and by `platform`, by `rule` and by whole days
from report to record, `turnaround`), imposed sanctions by penalty (`penalty`, on the month of
the violation sanctioned; `penalty_live`: those not yet spent or expunged) and appeal outcomes
(`appeal`). A statement-level trigger on the ledger adds each inserted record's effect in the same transaction as the insert (a new version
+1; the version it supersedes -1), whoever inserts: the append path, a COPY, a migration. The
ledger refuses UPDATE, DELETE and TRUNCATE, so nothing else can move the counts. Backfilled
here from the ledger as it stands.

Revision ID: registry_0008
Revises: registry_0007
Create Date: 2026-12-01 02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0008"
down_revision: str | None = "registry_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = f'"{SCHEMA}".ledger_record'


def is_version(alias: str) -> str:
    """The ledger's IS_VIOLATION_VERSION (services/registry/ledger/models.py), in SQL."""
    return (
        f"({alias}.record_kind IN ('violation', 'correction') OR "
        f"({alias}.record_kind = 'appeal_outcome' AND {alias}.appeal_outcome = 'modified'))"
    )


# The cells a set of changes touches, from three CTEs: version_change (department,
# effective_on, platform, rules_cited, recorded_at, reported_at, delta), imposition
# (department, effective_on of the violation, penalty_code, delta), spent (the same, for the
# first spent or expunged event of a sanction: its imposition leaves `penalty_live`) and appeal
# (department, effective_on, appeal_outcome, delta). Frozen here:
# services/registry/statistics/tally.py repeats it for the records recorded after an `as_of`,
# and a test holds the two to the same answers.
MONTH = "date_trunc('month', effective_on::timestamp)::date"
CELLS = f"""
    SELECT department, {MONTH} AS effective_month, 'violation' AS measure, '' AS key, delta
        FROM version_change
    UNION ALL SELECT department, {MONTH}, 'platform', platform, delta FROM version_change
    UNION ALL SELECT department, {MONTH}, 'rule', rule, delta
        FROM version_change CROSS JOIN LATERAL unnest(rules_cited) AS rule
    UNION ALL SELECT department, {MONTH}, 'turnaround',
        floor(extract(epoch FROM recorded_at - reported_at) / 86400)::bigint::text, delta
        FROM version_change
    UNION ALL SELECT department, {MONTH}, 'penalty', penalty_code, delta FROM imposition
    UNION ALL SELECT department, {MONTH}, 'penalty_live', penalty_code, delta FROM imposition
    UNION ALL SELECT department, {MONTH}, 'penalty_live', penalty_code, delta FROM spent
    UNION ALL SELECT department, {MONTH}, 'appeal', appeal_outcome, delta FROM appeal
"""
ADD_CELLS = f"""
    INSERT INTO "{SCHEMA}".statistics_tally AS tally
        (measure, department, effective_month, key, count)
    SELECT measure, scope.department, period.effective_month, key, sum(delta)
    FROM cell
        CROSS JOIN LATERAL (VALUES (cell.department), ('*')) AS scope(department)
        CROSS JOIN LATERAL (VALUES (cell.effective_month), ('-infinity'::date))
            AS period(effective_month)
    GROUP BY measure, scope.department, period.effective_month, key
    ON CONFLICT (measure, department, effective_month, key)
        DO UPDATE SET count = tally.count + excluded.count
"""
VERSION_COLUMNS = "department, effective_on, platform, rules_cited, recorded_at, reported_at"


def upgrade() -> None:
    op.create_table(
        "statistics_tally",
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("effective_month", sa.Date(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "measure", "department", "effective_month", "key", name=op.f("pk_statistics_tally")
        ),
        schema=SCHEMA,
    )
    # Records recorded after an as_of: what a statistics query as of then takes back out.
    op.create_index(
        op.f("ix_ledger_record_recorded_at"), "ledger_record", ["recorded_at"], schema=SCHEMA
    )
    # A page of violations on one platform, in ledger order: the platform's records only,
    # rather than every record from the cursor on.
    op.create_index(
        op.f("ix_ledger_record_platform_sequence"),
        "ledger_record",
        ["platform", "sequence"],
        schema=SCHEMA,
    )
    op.execute(
        f"""CREATE FUNCTION "{SCHEMA}".tally_ledger_records() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            WITH version_change AS (
                SELECT {VERSION_COLUMNS}, 1 AS delta FROM added v WHERE {is_version("v")}
                UNION ALL
                SELECT p.department, p.effective_on, p.platform, p.rules_cited, p.recorded_at,
                    p.reported_at, -1
                FROM added r JOIN {LEDGER} p ON p.id = r.supersedes_id
                WHERE {is_version("p")}
            ), imposition AS (
                SELECT s.department, v.effective_on, s.penalty_code, 1 AS delta
                FROM added s JOIN {LEDGER} v ON v.id = s.violation_id
                WHERE s.sanction_event = 'imposed'
            ), spent AS (
                SELECT i.department, v.effective_on, i.penalty_code, -1 AS delta
                FROM added e
                JOIN {LEDGER} i ON i.id = e.sanction_id
                JOIN {LEDGER} v ON v.id = i.violation_id
                WHERE e.sanction_event IN ('spent', 'expunged')
                    AND NOT EXISTS (
                        SELECT FROM {LEDGER} f WHERE f.sanction_id = e.sanction_id
                        AND f.sanction_event IN ('spent', 'expunged') AND f.sequence < e.sequence
                    )
            ), appeal AS (
                SELECT department, effective_on, appeal_outcome, 1 AS delta
                FROM added WHERE record_kind = 'appeal_outcome'
            ), cell AS ({CELLS})
            {ADD_CELLS};
            RETURN NULL;
        END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER ledger_record_tally AFTER INSERT ON {LEDGER}
            REFERENCING NEW TABLE AS added
            FOR EACH STATEMENT EXECUTE FUNCTION "{SCHEMA}".tally_ledger_records()"""
    )
    # The ledger as it stands: every current version, imposition and appeal outcome once.
    op.execute(
        f"""WITH version_change AS (
                SELECT {VERSION_COLUMNS}, 1 AS delta FROM {LEDGER} v
                WHERE {is_version("v")}
                    AND NOT EXISTS (SELECT FROM {LEDGER} s WHERE s.supersedes_id = v.id)
            ), imposition AS (
                SELECT s.department, v.effective_on, s.penalty_code, 1 AS delta
                FROM {LEDGER} s JOIN {LEDGER} v ON v.id = s.violation_id
                WHERE s.sanction_event = 'imposed'
            ), spent AS (
                SELECT i.department, v.effective_on, i.penalty_code, -1 AS delta
                FROM {LEDGER} e
                JOIN {LEDGER} i ON i.id = e.sanction_id
                JOIN {LEDGER} v ON v.id = i.violation_id
                WHERE e.sanction_event IN ('spent', 'expunged')
                    AND NOT EXISTS (
                        SELECT FROM {LEDGER} f WHERE f.sanction_id = e.sanction_id
                        AND f.sanction_event IN ('spent', 'expunged') AND f.sequence < e.sequence
                    )
            ), appeal AS (
                SELECT department, effective_on, appeal_outcome, 1 AS delta
                FROM {LEDGER} WHERE record_kind = 'appeal_outcome'
            ), cell AS ({CELLS})
            {ADD_CELLS}"""
    )
    op.execute(f'ANALYZE "{SCHEMA}".statistics_tally')


def downgrade() -> None:
    op.execute(f"DROP TRIGGER ledger_record_tally ON {LEDGER}")
    op.execute(f'DROP FUNCTION "{SCHEMA}".tally_ledger_records()')
    op.drop_index(op.f("ix_ledger_record_platform_sequence"), "ledger_record", schema=SCHEMA)
    op.drop_index(op.f("ix_ledger_record_recorded_at"), "ledger_record", schema=SCHEMA)
    op.drop_table("statistics_tally", schema=SCHEMA)
