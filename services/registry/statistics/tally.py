"""Statistics from the tally: the same numbers as counting the ledger (service.py), read from
statistics_tally in a few milliseconds however long the ledger grows.

statistics_tally (migration registry_0008) holds the counts as the ledger stands now, by month
of the effective date and for all months together (month '-infinity'); a trigger
keeps it in step in the same transaction as every insert. A query as of an earlier moment takes
back out, in the same statement, the effect of every record recorded after that moment (a
version it added, a version it superseded, an imposition, an appeal outcome), so any `as_of`
answers exactly as the ledger stood then; the further back, the more records to take out.

The tally counts by month of the effective date, so a date range must cover whole months
(`from` the first of a month, `to` the last of one) to be answered here; any other range is
counted from the ledger itself (service.py), which gives the same numbers more slowly.
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Date, String, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase


class StatisticsTally(RegistryBase):
    """One cell: how many things a measure counts for a department ('*': all of them), a month
    of the effective date and a key (a platform, rule, whole days, penalty code or outcome)."""

    __tablename__ = "statistics_tally"

    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    effective_month: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


ALL_DEPARTMENTS = "*"
VERSION = (
    "({0}.record_kind IN ('violation', 'correction') OR "
    "({0}.record_kind = 'appeal_outcome' AND {0}.appeal_outcome = 'modified'))"
)
MONTH = "date_trunc('month', effective_on::timestamp)::date"
# The effect of the records recorded after :as_of, to take out of the tally: a version still
# current now was not yet there (-1); a version superseded by one of them was still current
# then (+1); their impositions and appeal outcomes were not yet there (-1); a sanction they
# first spent or expunged was still live then (+1 to `penalty_live`). The cells are expanded as
# the trigger expands them (registry_0008).
LATER_CELLS = f"""
    later AS (SELECT * FROM registry.ledger_record WHERE recorded_at > :as_of),
    version_change AS (
        SELECT v.department, v.effective_on, v.platform, v.rules_cited, v.recorded_at,
            v.reported_at, -1 AS delta
        FROM later v
        WHERE {VERSION.format("v")}
            AND NOT EXISTS (SELECT FROM registry.ledger_record s WHERE s.supersedes_id = v.id)
        UNION ALL
        SELECT p.department, p.effective_on, p.platform, p.rules_cited, p.recorded_at,
            p.reported_at, 1
        FROM later r JOIN registry.ledger_record p ON p.id = r.supersedes_id
        WHERE {VERSION.format("p")} AND p.recorded_at <= :as_of
    ),
    imposition AS (
        SELECT s.department, v.effective_on, s.penalty_code, -1 AS delta
        FROM later s JOIN registry.ledger_record v ON v.id = s.violation_id
        WHERE s.sanction_event = 'imposed'
    ),
    spent AS (
        SELECT i.department, v.effective_on, i.penalty_code, 1 AS delta
        FROM later e
        JOIN registry.ledger_record i ON i.id = e.sanction_id
        JOIN registry.ledger_record v ON v.id = i.violation_id
        WHERE e.sanction_event IN ('spent', 'expunged')
            AND NOT EXISTS (
                SELECT FROM registry.ledger_record f WHERE f.sanction_id = e.sanction_id
                AND f.sanction_event IN ('spent', 'expunged') AND f.sequence < e.sequence
            )
    ),
    appeal AS (
        SELECT department, effective_on, appeal_outcome, -1 AS delta
        FROM later WHERE record_kind = 'appeal_outcome'
    ),
    cell AS (
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
    )
"""
# The fractions whose rows a `percentile_rows` part reads (median and 90th percentile).
PERCENTILES: tuple[float, ...] = (0.5, 0.9)
GROUP_KEYS = {
    "month": "to_char(effective_month, 'YYYY-MM')",
    "department": "department",
    "key": "key",
}


def whole_months(effective_from: date | None, effective_to: date | None) -> bool:
    """Whether a date range (inclusive, either end open) is made of whole months."""
    starts = effective_from is None or effective_from.day == 1
    ends = (
        effective_to is None
        or effective_to.day == monthrange(effective_to.year, effective_to.month)[1]
    )
    return starts and ends


def _part(
    number: int, *, group: str, department: str | None, months: str, by_department: bool
) -> str:
    """The SELECT of one part of a tallied statement: (part, key, count) of the measure bound
    to :measure_<number>, grouped by `group`."""
    if by_department:
        own = "department <> '*'" + (" AND department = :department" if department else "")
    else:
        own = "department = :department"
    later_own = "department = :department" if department else "TRUE"
    # The cells of every month together answer a part that neither groups by month nor
    # narrows the months; the others read the months they need.
    every_month = group != "month" and not months
    own_months = (
        "effective_month = '-infinity'" if every_month else f"effective_month > '-infinity'{months}"
    )
    counted = f"""(
            SELECT department, effective_month, key, count FROM registry.statistics_tally
            WHERE measure = :measure_{number} AND {own} AND {own_months}
            UNION ALL
            SELECT department, effective_month, key, delta FROM cell
            WHERE measure = :measure_{number} AND {later_own}{months}
        ) AS counted"""
    if group != "percentile_rows":
        return f"""
        SELECT {number} AS part, {GROUP_KEYS[group]} AS key, sum(count) AS count
        FROM {counted} GROUP BY 2 HAVING sum(count) <> 0"""
    # The keys are whole numbers (days): the count of values (key "-1") and the values at the
    # rows percentile_cont reads for PERCENTILES (key: the row, from 0 in value order), found
    # on the running count rather than sending every (value, count) to the application.
    rows = ", ".join(
        f"{rounding}({fraction}::float8 * (total - 1))"
        for fraction in PERCENTILES
        for rounding in ("floor", "ceil")
    )
    return f"""
        SELECT {number} AS part, row::text AS key,
            CASE WHEN row = -1 THEN total ELSE value END AS count
        FROM (
            SELECT value, n, sum(n) OVER (ORDER BY value) AS upto, sum(n) OVER () AS total
            FROM (
                SELECT key::bigint AS value, sum(count) AS n FROM {counted}
                GROUP BY 1 HAVING sum(count) <> 0
            ) AS histogram
        ) AS running
        CROSS JOIN LATERAL unnest(ARRAY[-1, {rows}]::bigint[]) AS row
        -- The one value whose rows hold `row`; the count on the last value.
        WHERE (row = -1 AND upto = total) OR (upto - n <= row AND row < upto)"""


async def tallied(
    session: AsyncSession,
    *,
    parts: list[tuple[str, str]],
    department: str | None,
    as_of: Any,
    effective_from: date | None,
    effective_to: date | None,
) -> list[list[tuple[str, int]]]:
    """For each (measure, group) part, the (group key, count) rows of the measure as of a
    moment, ordered by key, zero counts left out; all parts in one statement (one round trip,
    one snapshot).

    group is `month`, `department` (each department's own cells), `key`, or `percentile_rows`
    (the values percentile_cont reads, see _part); department None
    counts every department (the '*' cells); a range must be whole months (whole_months)."""
    months = ""
    if effective_from is not None:
        months += " AND effective_month >= :month_from"
    if effective_to is not None:
        months += " AND effective_month <= :month_to"
    selects = "\n        UNION ALL".join(
        _part(
            number,
            group=group,
            department=department,
            months=months,
            by_department=group == "department",
        )
        for number, (_, group) in enumerate(parts)
    )
    statement = text(f"WITH {LATER_CELLS}\n{selects}\nORDER BY 1, 2")
    parameters: dict[str, Any] = {
        "as_of": as_of,
        "department": department or ALL_DEPARTMENTS,
        **{f"measure_{number}": measure for number, (measure, _) in enumerate(parts)},
    }
    if effective_from is not None:
        parameters["month_from"] = effective_from
    if effective_to is not None:
        parameters["month_to"] = effective_to.replace(day=1)
    answers: list[list[tuple[str, int]]] = [[] for _ in parts]
    for part, key, count in (await session.execute(statement, parameters)).all():
        answers[part].append((str(key), int(count)))
    return answers


def percentile_cont(value_at: Mapping[int, int], *, count: int, fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over `count` values given by their rows in value order
    (value_at: row -> value, holding at least the two rows it reads), computed as PostgreSQL
    computes it (float8), so the two agree to the last bit."""
    if count == 0:
        return None
    position = fraction * (count - 1)
    first_row, second_row = math.floor(position), math.ceil(position)
    first = float(value_at[first_row])
    if first_row == second_row:
        return first
    second = float(value_at[second_row])
    return first + (position - first_row) * (second - first)
