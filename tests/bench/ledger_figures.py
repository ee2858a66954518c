"""The ledger's figures. B5: appends per second with the hash chain from 4 concurrent workers,
divided by plain concurrent INSERTs of the same records in the same run.

A single chain serialises its writers: each append reads the head, hashes and inserts under
the ledger's lock, held until its transaction commits. So the workers append what they have
pending in batches, one lock acquisition and one commit per batch (append_records), rather
than one per record. The baseline is the machine's own limit for the same records without a
chain: the same rows, each a single-row INSERT + COMMIT with asyncpg from 4 connections at
once (the way records arrive: one message, one record), into a copy of the ledger's table
with its indexes and CHECK constraints but no trigger. The detail also gives the chain's rate
with one lock per record, for comparison.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.entries import RecordEntry
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import append_record, append_records
from shared.db import unit_of_work
from shared.settings import to_plain_url
from tests.bench.figures import BenchContext, Figure, bench_sessionmaker
from tests.factories import unique_code

B5_WORKERS = 4
B5_RECORDS_PER_WORKER = 1_000
B5_BATCH = 50
B5_ROUNDS = 3
# The comparison with one lock per record: fewer records, it is the slow path.
B5_SINGLE_PER_WORKER = 150


def b5_entries(department: str, count: int) -> list[RecordEntry]:
    return [
        RecordEntry(
            record_kind="violation",
            case_id=uuid.uuid4(),
            submission_id=uuid.uuid4(),
            department=department,
            employee_ref=f"EMP-{index:06d}",
            employee_name="Bench Employee",
            rules_cited=["CR1964-22"],
            platform="facebook",
            reasons="Posted an internal inquiry report with comments.",
            determined_by=uuid.uuid4(),
            countersigned_by=uuid.uuid4(),
            effective_on=date(2026, 11, 20),
            reported_at=datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        )
        for index in range(count)
    ]


async def chained_rate(
    maker: async_sessionmaker[AsyncSession], *, per_worker: list[list[RecordEntry]], batch: int
) -> float:
    """Records per second appended to the chain by concurrent workers, `batch` records per
    transaction (1: append_record, one lock per record)."""

    async def worker(entries: list[RecordEntry]) -> None:
        for start in range(0, len(entries), batch):
            async with unit_of_work(maker) as session:
                if batch == 1:
                    await append_record(session, entry=entries[start])
                else:
                    await append_records(session, entries=entries[start : start + batch])

    started = time.perf_counter()
    await asyncio.gather(*(worker(entries) for entries in per_worker))
    return sum(len(entries) for entries in per_worker) / (time.perf_counter() - started)


async def plain_insert_rate(
    database_url: str, rows: list[dict[str, Any]], *, workers: int
) -> float:
    """The same rows, single-row INSERT + COMMIT each, from `workers` connections at once,
    into a copy of the ledger's table (indexes and CHECK constraints, no trigger, no lock)."""
    columns = list(rows[0])
    placeholders = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
    statement = (
        f"INSERT INTO public.bench_plain_ledger ({', '.join(columns)}) VALUES ({placeholders})"
    )
    url = to_plain_url(database_url)
    setup = await asyncpg.connect(url)
    try:
        await setup.execute(
            "DROP TABLE IF EXISTS public.bench_plain_ledger; CREATE TABLE "
            "public.bench_plain_ledger (LIKE registry.ledger_record INCLUDING ALL)"
        )
        connections = [await asyncpg.connect(url) for _ in range(workers)]
        try:
            share = [rows[index::workers] for index in range(workers)]

            async def worker(connection: asyncpg.Connection, mine: list[dict[str, Any]]) -> None:
                for row in mine:
                    await connection.execute(statement, *(row[column] for column in columns))

            started = time.perf_counter()
            await asyncio.gather(
                *(
                    worker(connection, mine)
                    for connection, mine in zip(connections, share, strict=True)
                )
            )
            elapsed = time.perf_counter() - started
        finally:
            for connection in connections:
                await connection.close()
        await setup.execute("DROP TABLE public.bench_plain_ledger")
    finally:
        await setup.close()
    return len(rows) / elapsed


async def appended_rows(
    maker: async_sessionmaker[AsyncSession], department: str
) -> list[dict[str, Any]]:
    """The records the chained run appended, every column as stored (JSON as text)."""
    table = LedgerRecord.__table__
    async with maker() as session:
        result = await session.execute(select(table).where(table.c.department == department))
        rows = [dict(row) for row in result.mappings()]
    for row in rows:
        for name in ("moderators", "retention_policy"):
            row[name] = None
    return rows


async def figure_b5(context: BenchContext) -> Figure:
    """B5: ledger appends per second with the hash chain from 4 concurrent workers (batched
    under one lock per transaction) over plain concurrent INSERTs of the same records; the
    median of B5_ROUNDS rounds, each measuring both back to back."""
    maker, engine = await bench_sessionmaker(context.database_url)
    try:
        # A short warm-up: connections opened, statements prepared.
        await chained_rate(maker, per_worker=[b5_entries(unique_code("B5W"), 20)], batch=10)
        # The two rates depend on different things: the chain on the round trips its writers
        # make one after another under the lock (and so on how soon a busy machine schedules
        # each), plain INSERTs on commits flushed four at a time. A neighbour's burst moves
        # them apart, so each round measures both back to back (in alternating order) and the
        # figure is the median of the rounds' ratios, not a ratio of rates from apart.
        rounds: list[tuple[float, float]] = []
        rows: list[dict[str, Any]] = []
        for number in range(B5_ROUNDS):
            department = unique_code("B5")
            per_worker = [b5_entries(department, B5_RECORDS_PER_WORKER) for _ in range(B5_WORKERS)]
            if number % 2:
                # Plain first, with the previous round's records (the plain table is new
                # each time), then the chain.
                plain = await plain_insert_rate(context.database_url, rows, workers=B5_WORKERS)
                chained = await chained_rate(maker, per_worker=per_worker, batch=B5_BATCH)
                rows = await appended_rows(maker, department)
            else:
                chained = await chained_rate(maker, per_worker=per_worker, batch=B5_BATCH)
                rows = await appended_rows(maker, department)
                plain = await plain_insert_rate(context.database_url, rows, workers=B5_WORKERS)
            rounds.append((chained, plain))
        ratios = sorted(chained / plain for chained, plain in rounds)
        median = ratios[len(ratios) // 2]
        single = await chained_rate(
            maker,
            per_worker=[
                b5_entries(unique_code("B5S"), B5_SINGLE_PER_WORKER) for _ in range(B5_WORKERS)
            ],
            batch=1,
        )
    finally:
        await engine.dispose()
    plain_rates = [plain for _, plain in rounds]
    return Figure(
        value=median,
        target=">= 0.85",
        unit="ratio",
        detail=(
            f"median of {B5_ROUNDS} rounds, ratios "
            + ", ".join(f"{ratio:.2f}" for ratio in ratios)
            + "; chain "
            + ", ".join(f"{chained:,.0f}" for chained, _ in rounds)
            + f" records/s ({B5_WORKERS} workers x {B5_RECORDS_PER_WORKER:,}, {B5_BATCH} per "
            "transaction) vs plain INSERT + COMMIT "
            + ", ".join(f"{plain:,.0f}" for plain in plain_rates)
            + f" rows/s ({B5_WORKERS} connections); one lock per record: {single:,.0f} "
            f"records/s ({single / max(plain_rates):.2f} of the best plain)"
        ),
    )
