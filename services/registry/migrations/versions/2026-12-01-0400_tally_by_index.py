"""The statistics tally's trigger looks up the records an insert links to (the version it
supersedes, the violation a sanction is imposed on, the imposition a sanction event ends) one
by one by primary key, instead of joining the whole ledger.

The trigger of registry_0008 joined the inserted rows to the ledger; with a transition table
of unknown size the planner chose a hash join over a sequential scan of the ledger, so every
insert statement read the whole ledger and appends slowed as it grew. Each look-up is now a
LATERAL subquery with LIMIT 1 (the id is unique), which PostgreSQL cannot flatten into such a
join. The counts are the same: only how the rows are found changes.

Revision ID: registry_0011
Revises: registry_0010
Create Date: 2026-12-01 04:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0011"
down_revision: str | None = "registry_0010"
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


def by_id(alias: str, id_expression: str) -> str:
    """The ledger record with this id, found by the primary key whatever the planner thinks of
    the rows around it."""
    return (
        f"CROSS JOIN LATERAL (SELECT * FROM {LEDGER} WHERE id = {id_expression} LIMIT 1) AS {alias}"
    )


# Frozen copies of registry_0008's cells and their upsert.
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


def tally_function(linked: str) -> str:
    """The trigger function, with `linked(alias, id)` saying how a linked record is found."""
    return f"""CREATE OR REPLACE FUNCTION "{SCHEMA}".tally_ledger_records() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            WITH version_change AS (
                SELECT {VERSION_COLUMNS}, 1 AS delta FROM added v WHERE {is_version("v")}
                UNION ALL
                SELECT p.department, p.effective_on, p.platform, p.rules_cited, p.recorded_at,
                    p.reported_at, -1
                FROM added r {linked("p", "r.supersedes_id")}
                WHERE r.supersedes_id IS NOT NULL AND {is_version("p")}
            ), imposition AS (
                SELECT s.department, v.effective_on, s.penalty_code, 1 AS delta
                FROM added s {linked("v", "s.violation_id")}
                WHERE s.sanction_event = 'imposed'
            ), spent AS (
                SELECT i.department, v.effective_on, i.penalty_code, -1 AS delta
                FROM added e
                {linked("i", "e.sanction_id")}
                {linked("v", "i.violation_id")}
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


def joined(alias: str, id_expression: str) -> str:
    """registry_0008's way: a join the planner may make a scan of the whole ledger."""
    return f"JOIN {LEDGER} {alias} ON {alias}.id = {id_expression}"


def upgrade() -> None:
    op.execute(tally_function(by_id))


def downgrade() -> None:
    op.execute(tally_function(joined))
