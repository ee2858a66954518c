"""The violations CSV export: every violation version a page of GET /v1/violations would list
(same filters, same `as_of`), in chain order, as one CSV streamed while PostgreSQL writes it.

PostgreSQL formats the rows itself (COPY (query) TO STDOUT WITH CSV) and the bytes go to the
client in large chunks as they arrive: no row becomes a Python object, so a million rows cost
about what fetching them would, and memory holds a few chunks whatever the export's size. A text
cell that a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote, as the
statistics export does. Timestamps are ISO 8601 in UTC (`2026-12-01 09:30:00.123456+00`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.models import LedgerRecord
from shared.db import driver_connection

# What a spreadsheet takes for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@")
# Bytes gathered before a chunk goes to the client: few enough sends, little held in memory.
CHUNK_BYTES = 256 * 1024
# Chunks in flight between the database and the client: back-pressure beyond that.
CHUNKS_AHEAD = 8


def inert(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The text cell, quoted inert if a spreadsheet would read it as a formula."""
    return case((func.left(column, 1).in_(FORMULA_STARTS), literal("'") + column), else_=column)


def export_rows(versions: Select[LedgerRecord, uuid.UUID]) -> Select[Any]:
    """The CSV's columns over the versions to export (services/registry/ledger/service.py
    filtered_versions), in chain order."""
    version = versions.subquery()
    return select(
        version.c.id,
        version.c.sequence,
        version.c.record_kind,
        inert(version.c.department).label("department"),
        version.c.case_id,
        inert(version.c.employee_ref).label("employee_ref"),
        inert(version.c.employee_name).label("employee_name"),
        inert(func.array_to_string(version.c.rules_cited, ";")).label("rules_cited"),
        version.c.platform,
        version.c.effective_on,
        version.c.recorded_at,
        version.c.reported_at,
        inert(version.c.reasons).label("reasons"),
        case((version.c.superseded_by.is_(None), "current"), else_="superseded").label("status"),
        version.c.superseded_by,
        version.c.supersedes_id,
        version.c.appeal_outcome,
    ).order_by(version.c.sequence)


async def stream_csv(
    sessionmaker: async_sessionmaker[AsyncSession], *, query: Select[Any], timeout_seconds: int
) -> AsyncIterator[bytes]:
    """The query's rows as CSV with a header, in chunks, from a session of its own (read-only:
    nothing to commit). If the client goes away, the COPY is cancelled and its connection
    discarded rather than returned to the pool mid-COPY."""
    # SQLAlchemy's dialect classes are untyped; the call takes no arguments.
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    # Parameters stay parameters ($1...); asyncpg quotes them into the COPY statement.
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    arguments = [compiled.params[name] for name in compiled.positiontup or ()]
    chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=CHUNKS_AHEAD)
    async with sessionmaker() as session:
        # One export is one long statement: its own timeout, in its own transaction only.
        await session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_seconds) * 1000}"))
        await session.execute(text("SET LOCAL TimeZone = 'UTC'"))
        await session.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
        driver = await driver_connection(session)
        gathered = bytearray()

        async def gather(data: bytes) -> None:
            gathered.extend(data)
            if len(gathered) >= CHUNK_BYTES:
                await chunks.put(bytes(gathered))
                gathered.clear()

        async def copy() -> None:
            await driver.copy_from_query(
                compiled.string, *arguments, output=gather, format="csv", header=True
            )
            if gathered:
                await chunks.put(bytes(gathered))

        producer = asyncio.create_task(copy())
        taken: asyncio.Future[bytes] | None = None
        finished = False
        try:
            while True:
                taken = asyncio.ensure_future(chunks.get())
                await asyncio.wait({taken, producer}, return_when=asyncio.FIRST_COMPLETED)
                if taken.done():
                    yield taken.result()
                    continue
                taken.cancel()
                while not chunks.empty():
                    yield chunks.get_nowait()
                producer.result()  # the COPY's error, if it failed
                finished = True
                return
        finally:
            if taken is not None:
                taken.cancel()
            if not finished:
                producer.cancel()
                with contextlib.suppress(BaseException):
                    await producer
                await (await session.connection()).invalidate()
