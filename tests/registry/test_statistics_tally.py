"""The statistics tally gives the numbers counting the ledger gives: every grouping, total, the
days from report to record and the appeal outcomes, for every department or one, whole months
or all of them, as of now and as of moments deep in the ledger's past; a record appended by the
ledger's own append path moves the tally in its transaction (and a rolled-back one does not);
and the migration's backfill builds the tally the trigger kept.

On a database of its own, seeded with a varied ledger (tests/bench/ledger_volume.py), since
the counts cover whole departments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from services.registry.ledger.corrections import append_correction
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import append_records
from services.registry.statistics import service, tally
from services.registry.statistics.tally import percentile_cont, whole_months
from shared.db import create_engine, create_sessionmaker
from shared.migrations import alembic_config, upgrade
from shared.settings import ServiceSettings
from tests.bench.ledger_volume import seed_ledger
from tests.registry.factories import record_entry
from tests.stack import scratch_database

SEEDED = 4_000


@pytest.fixture(scope="module")
def seeded_url() -> Iterator[str]:
    with scratch_database("tally") as url:
        upgrade("registry", url)
        asyncio.run(seed_ledger(url, SEEDED, years=2.0))
        yield url


@pytest.fixture
async def seeded(seeded_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = ServiceSettings.model_validate({"DATABASE_URL": seeded_url})
    engine = create_engine(settings, application_name="test-tally")
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def assert_same_answers(session: AsyncSession, scope: service.StatisticsFilter) -> None:
    """Each number the statistics endpoint gives, from the tally and from the ledger."""
    assert whole_months(scope.effective_from, scope.effective_to)
    for by in service.GROUPINGS:
        tallied = await service.grouped_counts(session, by=by, scope=scope)
        assert tallied == await service.ledger_grouped_counts(session, by=by, scope=scope), by
        total = await service.counted_total(session, by=by, scope=scope)
        assert total == await service.ledger_total(session, by=by, scope=scope), by
    turnaround = await service.turnaround_days(session, scope=scope)
    assert turnaround == await service.ledger_turnaround_days(session, scope=scope)
    appeals = await service.appeal_outcome_counts(session, scope=scope)
    assert appeals == await service.ledger_appeal_outcome_counts(session, scope=scope)
    # What the endpoint reads: every number in one statement.
    for by in service.GROUPINGS:
        numbers = await service.statistics(session, by=by, scope=scope)
        assert numbers.counts == await service.ledger_grouped_counts(session, by=by, scope=scope)
        assert numbers.total == await service.ledger_total(session, by=by, scope=scope)
        assert numbers.turnaround == turnaround and numbers.appeals == appeals


async def seeded_moments(session: AsyncSession) -> list[datetime]:
    """Now, and moments a quarter, half and all but a few records into the seeded history,
    and one before any record."""
    times = list(
        await session.scalars(select(LedgerRecord.recorded_at).order_by(LedgerRecord.sequence))
    )
    return [
        datetime.now(UTC),
        times[len(times) // 4],
        times[len(times) // 2],
        times[-3],
        times[0] - timedelta(seconds=1),
    ]


async def test_the_tally_counts_what_counting_the_ledger_counts(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    async with seeded() as session:
        moments = await seeded_moments(session)
        # Big enough to hold suppressed and unsuppressed groups alike.
        health = await service.grouped_counts(
            session,
            by="month",
            scope=service.StatisticsFilter(as_of=moments[0], department="HEALTH"),
        )
        assert health and len({count for _, count in health}) > 1
        for as_of in moments:
            for department in (None, "HEALTH", "MTI-03"):
                for effective_from, effective_to in (
                    (None, None),
                    (date(2025, 1, 1), date(2025, 12, 31)),
                    (date(2026, 3, 1), None),
                    (None, date(2025, 6, 30)),
                ):
                    scope = service.StatisticsFilter(
                        as_of=as_of,
                        department=department,
                        effective_from=effective_from,
                        effective_to=effective_to,
                    )
                    await assert_same_answers(session, scope)
        # A reader bound to one department asking for another counts nothing, either way.
        bound = service.StatisticsFilter(
            as_of=moments[0], department_scope="HEALTH", department="POLICE"
        )
        await assert_same_answers(session, bound)
        assert await service.counted_total(session, by="month", scope=bound) == 0


LIVE_IMPOSITIONS = """
    SELECT s.penalty_code, count(*) FROM registry.ledger_record s
    JOIN registry.ledger_record v ON v.id = s.violation_id
    WHERE s.sanction_event = 'imposed' AND s.recorded_at <= :as_of
        AND NOT EXISTS (
            SELECT FROM registry.ledger_record e WHERE e.sanction_id = s.sanction_id
            AND e.sanction_event IN ('spent', 'expunged') AND e.recorded_at <= :as_of
        )
        AND (CAST(:department AS text) IS NULL OR s.department = :department)
        AND (CAST(:from AS date) IS NULL OR v.effective_on >= :from)
        AND (CAST(:to AS date) IS NULL OR v.effective_on <= :to)
    GROUP BY 1 ORDER BY 1
"""


async def test_impositions_not_yet_spent_or_expunged_are_tallied_too(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    """`penalty_live` (for the retention policy that takes spent sanctions off the dashboards)
    counts the impositions no spent or expunged event had followed by as_of."""
    async with seeded() as session:
        for as_of in await seeded_moments(session):
            for department, effective_from, effective_to in (
                (None, None, None),
                ("HEALTH", None, None),
                (None, date(2025, 1, 1), date(2025, 12, 31)),
            ):
                scope = service.StatisticsFilter(
                    as_of=as_of,
                    department=department,
                    effective_from=effective_from,
                    effective_to=effective_to,
                )
                live, every = await tally.tallied(
                    session,
                    parts=[("penalty_live", "key"), ("penalty", "key")],
                    department=department,
                    as_of=as_of,
                    effective_from=effective_from,
                    effective_to=effective_to,
                )
                counted = (
                    await session.execute(
                        text(LIVE_IMPOSITIONS),
                        {
                            "as_of": as_of,
                            "department": department,
                            "from": effective_from,
                            "to": effective_to,
                        },
                    )
                ).all()
                assert live == [(code, count) for code, count in counted]
                # The same numbers as counting the ledger: every imposition when spent
                # sanctions stay on the dashboards, the live ones when they leave them.
                assert every == await service.ledger_grouped_counts(
                    session, by="penalty", scope=replace(scope, spent_leave="nothing")
                )
                assert live == await service.ledger_grouped_counts(
                    session, by="penalty", scope=replace(scope, spent_leave="sanction")
                )
        # The seeded ledger spends sanctions: the two measures differ now.
        now = datetime.now(UTC)
        live, every = await tally.tallied(
            session,
            parts=[("penalty_live", "key"), ("penalty", "key")],
            department=None,
            as_of=now,
            effective_from=None,
            effective_to=None,
        )
        assert sum(count for _, count in live) < sum(count for _, count in every)


async def test_a_range_of_part_months_is_counted_from_the_ledger_with_the_same_rule(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    """Days inside a month (10 January to 20 March) are not in the tally's cells: the counts
    come from the ledger, and agree with the whole months around them."""
    assert not whole_months(date(2025, 1, 10), date(2025, 3, 20))
    async with seeded() as session:
        part = service.StatisticsFilter(
            as_of=datetime.now(UTC),
            effective_from=date(2025, 1, 10),
            effective_to=date(2025, 3, 20),
        )
        whole = service.StatisticsFilter(
            as_of=datetime.now(UTC), effective_from=date(2025, 1, 1), effective_to=date(2025, 3, 31)
        )
        counted = dict(await service.grouped_counts(session, by="month", scope=part))
        around = dict(await service.grouped_counts(session, by="month", scope=whole))
        assert counted.keys() == around.keys() == {"2025-01", "2025-02", "2025-03"}
        assert counted["2025-02"] == around["2025-02"]
        assert counted["2025-01"] < around["2025-01"] and counted["2025-03"] < around["2025-03"]


async def test_an_append_moves_the_tally_in_its_own_transaction(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    """A correction appended through the ledger's append path moves a violation from one
    platform to another at once; the same correction rolled back moves nothing."""
    now = datetime.now(UTC)
    successor = aliased(LedgerRecord)
    async with seeded() as session:
        version = await session.scalar(
            select(LedgerRecord)
            .where(
                LedgerRecord.record_kind == "violation",
                LedgerRecord.department == "HEALTH",
                ~select(successor.id).where(successor.supersedes_id == LedgerRecord.id).exists(),
            )
            .order_by(LedgerRecord.sequence.desc())
        )
        assert version is not None
        platform = "youtube" if version.platform != "youtube" else "tiktok"
        scope = service.StatisticsFilter(as_of=now, department="HEALTH")
        before = dict(await service.grouped_counts(session, by="platform", scope=scope))

    async with seeded() as session, session.begin():
        await append_correction(
            session,
            supersedes=version.id,
            reasons="Wrong platform.",
            corrected_by=version.determined_by or version.id,
            platform=platform,
        )
        await session.rollback()
    async with seeded() as session:
        after_rollback = dict(
            await service.grouped_counts(
                session,
                by="platform",
                scope=service.StatisticsFilter(as_of=datetime.now(UTC), department="HEALTH"),
            )
        )
        assert after_rollback == before

    async with seeded() as session, session.begin():
        await append_correction(
            session,
            supersedes=version.id,
            reasons="Wrong platform.",
            corrected_by=version.determined_by or version.id,
            platform=platform,
        )
    async with seeded() as session:
        scope = service.StatisticsFilter(as_of=datetime.now(UTC), department="HEALTH")
        after = dict(await service.grouped_counts(session, by="platform", scope=scope))
        assert after[version.platform or ""] == before[version.platform or ""] - 1
        assert after.get(platform, 0) == before.get(platform, 0) + 1
        await assert_same_answers(session, scope)
        # As of a moment before the correction, the tally answers as the ledger stood then.
        await assert_same_answers(session, service.StatisticsFilter(as_of=now, department="HEALTH"))
        assert (
            dict(
                await service.grouped_counts(
                    session,
                    by="platform",
                    scope=service.StatisticsFilter(as_of=now, department="HEALTH"),
                )
            )
            == before
        )


async def test_a_batch_appended_reads_no_whole_ledger(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    """A batch of appends (new violations and a correction) over a ledger of thousands of
    records reads the ledger by index only: the head, the tally trigger's look-ups of the
    versions superseded, the foreign keys. A scan of the whole ledger per append would slow
    every append as the ledger grows."""
    successor = aliased(LedgerRecord)
    async with seeded() as session, session.begin():
        version = await session.scalar(
            select(LedgerRecord)
            .where(
                LedgerRecord.record_kind == "violation",
                ~select(successor.id).where(successor.supersedes_id == LedgerRecord.id).exists(),
            )
            .order_by(LedgerRecord.sequence.desc())
        )
        assert version is not None
        correction = replace(
            record_entry(department=version.department),
            record_kind="correction",
            case_id=version.case_id,
            submission_id=version.submission_id,
            supersedes_id=version.id,
        )
        seq_before, index_before = await ledger_scans(session)
        records = await append_records(
            session, entries=[*(record_entry() for _ in range(30)), correction]
        )
        seq_after, index_after = await ledger_scans(session)
        assert [record.sequence for record in records] == list(
            range(records[0].sequence, records[0].sequence + 31)
        )
        assert seq_after == seq_before
        assert index_after > index_before
        await session.rollback()


async def ledger_scans(session: AsyncSession) -> tuple[int, int]:
    """Scans of the ledger's table so far in this transaction: sequential, by index."""
    row = (
        await session.execute(
            text(
                "SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0) "
                "FROM pg_stat_xact_user_tables WHERE relid = 'registry.ledger_record'::regclass"
            )
        )
    ).one()
    return row[0], row[1]


def test_the_migration_builds_the_tally_the_trigger_kept(seeded_url: str) -> None:
    """Down to registry_0006 and up again: the backfill from the ledger gives every cell the
    count the trigger had kept record by record."""

    async def cells() -> list[tuple[str, str, date, str, int]]:
        settings = ServiceSettings.model_validate({"DATABASE_URL": seeded_url})
        engine = create_engine(settings, application_name="test-tally")
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT measure, department, effective_month, key, count "
                        "FROM registry.statistics_tally WHERE count <> 0 ORDER BY 1, 2, 3, 4"
                    )
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    kept = asyncio.run(cells())
    assert len(kept) > 1000
    command.downgrade(alembic_config("registry", seeded_url), "registry_0006")
    upgrade("registry", seeded_url)
    assert asyncio.run(cells()) == kept


def test_percentiles_interpolate_as_postgresql_does() -> None:
    def rows(*values: int) -> dict[int, int]:
        return dict(enumerate(sorted(values)))

    assert percentile_cont({}, count=0, fraction=0.5) is None
    assert percentile_cont(rows(3), count=1, fraction=0.9) == 3.0
    # 1, 2, 2, 10: the median halfway between the 2s, p90 70% of the way from 2 to 10.
    assert percentile_cont(rows(1, 2, 2, 10), count=4, fraction=0.5) == 2.0
    assert percentile_cont(rows(1, 2, 2, 10), count=4, fraction=0.9) == pytest.approx(7.6)
    assert percentile_cont(rows(0, 0, 5, 5), count=4, fraction=0.5) == 2.5
