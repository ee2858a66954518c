"""Counting the ledger for dashboards, as the registry stood at any moment: current violations
grouped by month, department, rule or platform; imposed sanctions grouped by penalty; whole days
from report to record; and sanctions whose penalty class departs from what a rule usually draws.

Two ways to the same numbers: the statistics tally (tally.py), kept by the database as records
are appended, answers in milliseconds whenever the date range is made of whole months (or
absent); any other range is counted from the ledger itself (the ledger_* functions), which a
test holds the tally to. Nothing here returns personal data: queries select group keys and
counts only. Small counts are suppressed by services/registry/statistics/suppression.py, not
here, so the raw numbers never leave this module except through it. A violation counts if its
version was recorded by `as_of` and no version superseding it was recorded by then (the
ledger's bitemporal rule, services/registry/ledger/service.py). Spent and expunged sanctions
leave the dashboards as the retention policy says (StatisticsFilter.spent_leave): the sanction
(the tally keeps live impositions apart for that), or with it the violation version whose every
sanction is spent (counted from the ledger).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.registry.catalogue.models import Penalty
from services.registry.ledger.models import IS_VIOLATION_VERSION, LedgerRecord
from services.registry.retention.settings import SpentLeave
from services.registry.statistics import tally

Grouping = Literal["month", "department", "rule", "platform", "penalty"]
GROUPINGS: tuple[Grouping, ...] = ("month", "department", "rule", "platform", "penalty")


@dataclass(frozen=True)
class StatisticsFilter:
    """What every statistics query narrows by: the reader's own department (None: all), a
    department asked for, and the effective dates (inclusive) of the violations counted."""

    as_of: datetime
    department_scope: str | None = None
    department: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    # What spent (or expunged) sanctions take off the dashboards (the retention policy,
    # REGISTRY_RETENTION_SPENT_LEAVE).
    spent_leave: SpentLeave = "sanction"


@dataclass(frozen=True)
class TurnaroundDays:
    """Days from report to record over the violations counted, before suppression."""

    records: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class InconsistentSanction:
    """An imposed sanction whose penalty class is not the one its rule usually draws."""

    rule: str
    usual_class: str
    rule_sanctions: int
    sanction_id: uuid.UUID
    violation_id: uuid.UUID
    department: str
    penalty_code: str
    penalty_class: str
    order_date: date


def _not_superseded(as_of: datetime) -> ColumnElement[bool]:
    successor = aliased(LedgerRecord)
    return (
        ~select(successor.id)
        .where(successor.supersedes_id == LedgerRecord.id, successor.recorded_at <= as_of)
        .correlate(LedgerRecord)
        .exists()
    )


def _spent(sanction_id: Any, as_of: datetime) -> ColumnElement[bool]:
    """The sanction had been spent or expunged by as_of."""
    event = aliased(LedgerRecord)
    return (
        select(event.id)
        .where(
            event.sanction_id == sanction_id,
            event.sanction_event.in_(("spent", "expunged")),
            event.recorded_at <= as_of,
        )
        .exists()
    )


def _only_spent_sanctions(as_of: datetime) -> ColumnElement[bool]:
    """The violation version had sanctions imposed on it by as_of, all spent or expunged."""
    imposed = aliased(LedgerRecord)
    sanctions = select(imposed.id).where(
        imposed.violation_id == LedgerRecord.id,
        imposed.sanction_event == "imposed",
        imposed.recorded_at <= as_of,
    )
    return and_(
        sanctions.correlate(LedgerRecord).exists(),
        ~sanctions.where(~_spent(imposed.sanction_id, as_of)).correlate(LedgerRecord).exists(),
    )


def _narrowed(
    query: Select[Any], *, scope: StatisticsFilter, counted: Any, violation: Any
) -> Select[Any]:
    """The filters: department on the record counted, effective dates on the violation (for a
    sanction event, the violation it sanctions)."""
    for wanted in (scope.department_scope, scope.department):
        if wanted is not None:
            query = query.where(counted.department == wanted)
    if scope.effective_from is not None:
        query = query.where(violation.effective_on >= scope.effective_from)
    if scope.effective_to is not None:
        query = query.where(violation.effective_on <= scope.effective_to)
    return query


def _impositions(scope: StatisticsFilter) -> tuple[Select[Any], Any]:
    """The FROM and WHERE of sanctions imposed by as_of (joined to the violation version they
    sanction, returned too). An imposition counts whatever became of its violation since: a
    sanction stays on the version it was imposed on."""
    violation = aliased(LedgerRecord)
    query = (
        select()
        .select_from(LedgerRecord)
        .join(violation, violation.id == LedgerRecord.violation_id)
        .where(LedgerRecord.sanction_event == "imposed", LedgerRecord.recorded_at <= scope.as_of)
    )
    if scope.spent_leave != "nothing":
        query = query.where(~_spent(LedgerRecord.sanction_id, scope.as_of))
    return _narrowed(query, scope=scope, counted=LedgerRecord, violation=violation), violation


def _current_violations(scope: StatisticsFilter) -> Select[Any]:
    """The FROM and WHERE of every violation count; the caller chooses the columns."""
    query = select().where(
        IS_VIOLATION_VERSION,
        LedgerRecord.recorded_at <= scope.as_of,
        _not_superseded(scope.as_of),
    )
    if scope.spent_leave == "sanction_and_violation":
        query = query.where(~_only_spent_sanctions(scope.as_of))
    return _narrowed(query, scope=scope, counted=LedgerRecord, violation=LedgerRecord)


def _grouped(by: Grouping, scope: StatisticsFilter) -> Select[Any]:
    """(key, count) rows ordered by key. A violation citing two rules counts once under each."""
    if by == "penalty":
        keys = _impositions(scope)[0].add_columns(LedgerRecord.penalty_code.label("key"))
    else:
        keys_of: dict[str, SQLColumnExpression[Any]] = {
            "month": func.to_char(LedgerRecord.effective_on, "YYYY-MM"),
            "department": LedgerRecord.department,
            "platform": LedgerRecord.platform,
            "rule": func.unnest(LedgerRecord.rules_cited),
        }
        key = keys_of[by]
        keys = _current_violations(scope).add_columns(key.label("key"))
    inner = keys.subquery()
    return (
        select(inner.c.key, func.count().label("count")).group_by(inner.c.key).order_by(inner.c.key)
    )


async def ledger_grouped_counts(
    session: AsyncSession, *, by: Grouping, scope: StatisticsFilter
) -> list[tuple[str, int]]:
    rows = (await session.execute(_grouped(by, scope))).all()
    return [(str(row.key), int(row.count)) for row in rows]


async def ledger_stream_grouped_counts(
    session: AsyncSession, *, by: Grouping, scope: StatisticsFilter, batch_size: int = 500
) -> AsyncIterator[tuple[str, int]]:
    """The same rows as ledger_grouped_counts, fetched from a server-side cursor a batch at a time:
    however many groups there are, only one batch is in memory."""
    result = await session.stream(_grouped(by, scope).execution_options(yield_per=batch_size))
    async for row in result:
        yield str(row.key), int(row.count)


async def ledger_total(session: AsyncSession, *, by: Grouping, scope: StatisticsFilter) -> int:
    """How many things the grouping counts: current violations (each once, whatever rules it
    cites), or impositions for the penalty grouping."""
    counted = _impositions(scope)[0] if by == "penalty" else _current_violations(scope)
    return int(await session.scalar(counted.add_columns(func.count())) or 0)


async def ledger_appeal_outcome_counts(
    session: AsyncSession, *, scope: StatisticsFilter
) -> list[tuple[str, int]]:
    """Appeals decided by as_of, by outcome (upheld, modified, set aside), within the filters
    (dates on the outcome's effective date)."""
    decided = select().where(
        LedgerRecord.record_kind == "appeal_outcome", LedgerRecord.recorded_at <= scope.as_of
    )
    query = _narrowed(
        decided,
        scope=scope,
        counted=LedgerRecord,
        violation=LedgerRecord,
    )
    rows = await session.execute(
        query.add_columns(LedgerRecord.appeal_outcome, func.count())
        .group_by(LedgerRecord.appeal_outcome)
        .order_by(LedgerRecord.appeal_outcome)
    )
    return [(str(outcome), int(count)) for outcome, count in rows.all()]


async def ledger_turnaround_days(
    session: AsyncSession, *, scope: StatisticsFilter
) -> TurnaroundDays:
    """Median and 90th percentile of the whole days from the report to its violation's
    record."""
    days = func.floor(
        func.extract("epoch", LedgerRecord.recorded_at - LedgerRecord.reported_at) / 86400
    )
    row = (
        await session.execute(
            _current_violations(scope).add_columns(
                func.count().label("records"),
                func.percentile_cont(0.5).within_group(days).label("median"),
                func.percentile_cont(0.9).within_group(days).label("p90"),
            )
        )
    ).one()
    return TurnaroundDays(
        records=int(row.records),
        median=None if row.median is None else round(float(row.median), 1),
        p90=None if row.p90 is None else round(float(row.p90), 1),
    )


# The tally's measure and grouping for each `by` (services/registry/statistics/tally.py).
TALLIED: dict[Grouping, tuple[str, str]] = {
    "month": ("violation", "month"),
    "department": ("violation", "department"),
    "rule": ("rule", "key"),
    "platform": ("platform", "key"),
    "penalty": ("penalty", "key"),
}


def _from_tally(scope: StatisticsFilter) -> bool:
    """Whether the tally can answer: whole months, and no violation left out for its spent
    sanctions (the tally keeps sanctions, live or not, but not that rule)."""
    return scope.spent_leave != "sanction_and_violation" and tally.whole_months(
        scope.effective_from, scope.effective_to
    )


def _penalty_measure(scope: StatisticsFilter) -> str:
    """The tally's impositions: all of them, or only those not yet spent or expunged when
    spent sanctions leave the dashboards."""
    return "penalty_live" if scope.spent_leave == "sanction" else "penalty"


def _tallied_as(by: Grouping, scope: StatisticsFilter) -> tuple[str, str]:
    measure, grouping = TALLIED[by]
    return (_penalty_measure(scope), grouping) if measure == "penalty" else (measure, grouping)


def _total_measure(by: Grouping, scope: StatisticsFilter) -> tuple[str, str]:
    return (_penalty_measure(scope) if by == "penalty" else "violation", "key")


def _department(scope: StatisticsFilter) -> tuple[bool, str | None]:
    """(whether anything can match, the one department counted or None for all): a reader
    bound to one department asking for another counts nothing."""
    wanted = {code for code in (scope.department_scope, scope.department) if code is not None}
    if len(wanted) > 1:
        return False, None
    return True, next(iter(wanted), None)


async def _tallied(
    session: AsyncSession, *, parts: list[tuple[str, str]], scope: StatisticsFilter
) -> list[list[tuple[str, int]]]:
    possible, department = _department(scope)
    if not possible:
        return [[] for _ in parts]
    return await tally.tallied(
        session,
        parts=parts,
        department=department,
        as_of=scope.as_of,
        effective_from=scope.effective_from,
        effective_to=scope.effective_to,
    )


def _turnaround(rows: list[tuple[str, int]]) -> TurnaroundDays:
    """The turnaround from a `percentile_rows` part: the count, and the days at the rows the
    median and the 90th percentile read."""
    value_at = {int(row): value for row, value in rows}
    records = value_at.pop(-1, 0)
    median = tally.percentile_cont(value_at, count=records, fraction=0.5)
    p90 = tally.percentile_cont(value_at, count=records, fraction=0.9)
    return TurnaroundDays(
        records=records,
        median=None if median is None else round(median, 1),
        p90=None if p90 is None else round(p90, 1),
    )


@dataclass(frozen=True)
class Statistics:
    """Every number GET /v1/statistics gives, before suppression."""

    counts: list[tuple[str, int]]
    total: int
    turnaround: TurnaroundDays
    appeals: list[tuple[str, int]]


async def statistics(session: AsyncSession, *, by: Grouping, scope: StatisticsFilter) -> Statistics:
    """The grouped counts, their total, the turnaround and the appeal outcomes: from the
    tally in one statement, or counted from the ledger for a range of part months."""
    if not _from_tally(scope):
        return Statistics(
            counts=await ledger_grouped_counts(session, by=by, scope=scope),
            total=await ledger_total(session, by=by, scope=scope),
            turnaround=await ledger_turnaround_days(session, scope=scope),
            appeals=await ledger_appeal_outcome_counts(session, scope=scope),
        )
    counts, total, turnaround, appeals = await _tallied(
        session,
        parts=[
            _tallied_as(by, scope),
            _total_measure(by, scope),
            ("turnaround", "percentile_rows"),
            ("appeal", "key"),
        ],
        scope=scope,
    )
    return Statistics(
        counts=counts,
        total=sum(count for _, count in total),
        turnaround=_turnaround(turnaround),
        appeals=appeals,
    )


async def grouped_counts(
    session: AsyncSession, *, by: Grouping, scope: StatisticsFilter
) -> list[tuple[str, int]]:
    """(key, count) by `by`, ordered by key; a violation citing two rules counts under each."""
    if not _from_tally(scope):
        return await ledger_grouped_counts(session, by=by, scope=scope)
    [counts] = await _tallied(session, parts=[_tallied_as(by, scope)], scope=scope)
    return counts


async def stream_grouped_counts(
    session: AsyncSession, *, by: Grouping, scope: StatisticsFilter, batch_size: int = 500
) -> AsyncIterator[tuple[str, int]]:
    """The rows of grouped_counts; counted from the ledger, a batch at a time from a
    server-side cursor (the tally's groups are few enough to read at once)."""
    if not _from_tally(scope):
        async for row in ledger_stream_grouped_counts(
            session, by=by, scope=scope, batch_size=batch_size
        ):
            yield row
        return
    for row in await grouped_counts(session, by=by, scope=scope):
        yield row


async def counted_total(session: AsyncSession, *, by: Grouping, scope: StatisticsFilter) -> int:
    """How many things the grouping counts: current violations (each once, whatever rules it
    cites), or impositions for the penalty grouping."""
    if not _from_tally(scope):
        return await ledger_total(session, by=by, scope=scope)
    [counts] = await _tallied(session, parts=[_total_measure(by, scope)], scope=scope)
    return sum(count for _, count in counts)


async def appeal_outcome_counts(
    session: AsyncSession, *, scope: StatisticsFilter
) -> list[tuple[str, int]]:
    """Appeals decided by as_of, by outcome (upheld, modified, set aside), within the filters
    (dates on the outcome's effective date)."""
    if not _from_tally(scope):
        return await ledger_appeal_outcome_counts(session, scope=scope)
    [counts] = await _tallied(session, parts=[("appeal", "key")], scope=scope)
    return counts


async def turnaround_days(session: AsyncSession, *, scope: StatisticsFilter) -> TurnaroundDays:
    """Median and 90th percentile of the whole days from the report to its violation's record
    (PostgreSQL's percentile_cont, over the tally's counts of each number of days)."""
    if not _from_tally(scope):
        return await ledger_turnaround_days(session, scope=scope)
    [rows] = await _tallied(session, parts=[("turnaround", "percentile_rows")], scope=scope)
    return _turnaround(rows)


async def inconsistent_sanctions(
    session: AsyncSession, *, scope: StatisticsFilter
) -> list[InconsistentSanction]:
    """Per rule cited by the sanctioned violation, the imposed sanctions (recorded by as_of)
    whose penalty class differs from the class most often imposed for that rule. A rule with
    a tie between minor and major has no usual class, and nothing under it is flagged: there
    is no practice to depart from."""
    impositions, violation = _impositions(scope)
    query = (
        impositions.add_columns(
            LedgerRecord.id,
            LedgerRecord.violation_id,
            LedgerRecord.department,
            LedgerRecord.penalty_code,
            LedgerRecord.effective_on.label("order_date"),
            Penalty.penalty_class,
            func.unnest(violation.rules_cited).label("rule"),
        )
        .join(
            Penalty,
            and_(
                Penalty.catalogue_version == LedgerRecord.penalty_catalogue_version,
                Penalty.code == LedgerRecord.penalty_code,
            ),
        )
        .order_by(LedgerRecord.sequence)
    )
    by_rule: defaultdict[str, list[Any]] = defaultdict(list)
    for row in (await session.execute(query)).all():
        by_rule[row.rule].append(row)
    flagged: list[InconsistentSanction] = []
    for rule in sorted(by_rule):
        rows = by_rule[rule]
        classes = Counter(row.penalty_class for row in rows).most_common()
        if len(classes) < 2 or classes[0][1] == classes[1][1]:
            continue
        usual = classes[0][0]
        flagged.extend(
            InconsistentSanction(
                rule=rule,
                usual_class=usual,
                rule_sanctions=len(rows),
                sanction_id=row.id,
                violation_id=row.violation_id,
                department=row.department,
                penalty_code=row.penalty_code,
                penalty_class=row.penalty_class,
                order_date=row.order_date,
            )
            for row in rows
            if row.penalty_class != usual
        )
    return flagged
