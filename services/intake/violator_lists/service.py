"""Accepting violator lists: read the body, judge each row, then store the batch, one entry per
accepted row and its first status line, all in the request's one transaction.

A list may hold 100,000 rows, so no ORM object per row: a slice of rows at a time is judged and
made into COPY records in a thread while the previous slice is copied on the session's own
connection (storing.py), so Python's work and the database's overlap. Each slice is announced
by one violator_list.entries_stored message, from which intake's worker stages the slice's
per-entry violator_list.entry_received messages once the upload is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from anyio import to_thread
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.catalogue.models import RuleReference
from services.intake.clients.models import ClientCredential
from services.intake.settings import IntakeSettings
from services.intake.violator_lists.errors import BatchNotFound, ListUnreadable
from services.intake.violator_lists.models import ViolatorListBatch, ViolatorListEntry
from services.intake.violator_lists.parsing import (
    ReadRows,
    RowVerdicts,
    judge_rows,
    read_csv,
    read_json,
    rules_named,
)
from services.intake.violator_lists.schemas import BatchKey, RejectedRow
from services.intake.violator_lists.storing import (
    ListContext,
    PreparedSlice,
    copy_slice,
    prepare_slice,
    stage_slices_stored,
)
from shared.db import driver_connection, utcnow
from shared.errors import FieldProblem
from shared.tracing import current_trace_context

SourceFormat = Literal["csv", "json"]

# Rows judged per slice: big enough that each COPY is worth its round trips, small enough that
# the database starts early and judging the next slice overlaps copying this one.
JUDGE_CHUNK_ROWS = 5_000


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """The process's objects made so far left out of the cyclic garbage collector's passes
    while a list is judged and copied (gc.freeze): its 100,000 rows' records would otherwise
    set off full collections that walk the whole heap again and again, a third of the CPU of
    preparing the records (measured). Only a collector's pass is put off; nothing is kept
    alive by it, and the objects are handed back to it afterwards."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class PostedList:
    """A list as read from the body, before its rows are judged."""

    batch_key: str
    source_format: SourceFormat
    rows: ReadRows


BATCH_KEY: TypeAdapter[str] = TypeAdapter(BatchKey)


def check_batch_key(value: str | None) -> str:
    try:
        key = BATCH_KEY.validate_python(value)
    except ValidationError as exc:
        raise ListUnreadable(
            "The batch key is missing or not valid: 1 to 128 printable ASCII characters.",
            errors=[FieldProblem(field="batch_key", message=exc.errors()[0]["msg"])],
        ) from exc
    return key


def read_posted_list(
    body: bytes, *, source_format: SourceFormat, batch_key: str | None, max_rows: int
) -> PostedList:
    """The list in the body; refuses the whole list (nothing stored) if it cannot be read."""
    if source_format == "csv":
        key = check_batch_key(batch_key)
        return PostedList(
            batch_key=key, source_format="csv", rows=read_csv(body, max_rows=max_rows)
        )
    if batch_key is not None:
        raise ListUnreadable(
            "A JSON list carries its batch key in the body, not in the query.",
            errors=[FieldProblem(field="batch_key", message="send it in the JSON body")],
        )
    key, rows = read_json(body, max_rows=max_rows)
    return PostedList(batch_key=check_batch_key(key), source_format="json", rows=rows)


async def find_batch(
    session: AsyncSession, *, institution: str, batch_key: str
) -> ViolatorListBatch | None:
    return await session.scalar(
        select(ViolatorListBatch).where(
            ViolatorListBatch.institution == institution,
            ViolatorListBatch.batch_key == batch_key,
        )
    )


async def known_rules(session: AsyncSession, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    return set(
        (
            await session.scalars(select(RuleReference.code).where(RuleReference.code.in_(codes)))
        ).all()
    )


async def accept_violator_list(
    session: AsyncSession,
    *,
    posted: PostedList,
    client: ClientCredential,
    settings: IntakeSettings,
    correlation_id: str,
) -> tuple[ViolatorListBatch, bool]:
    """Judge and store the list. Returns the batch and whether it is new; a batch key the
    institution has used before returns that first batch and creates nothing."""
    institution = client.organisation_code
    earlier = await find_batch(session, institution=institution, batch_key=posted.batch_key)
    if earlier is not None:
        return earlier, False
    now = utcnow()
    batch_id = uuid.uuid4()
    # A concurrent post of the same key: the unique key decides, the loser returns the winner's.
    # The counts are filled in once the rows are judged, in this same transaction.
    inserted = await session.scalar(
        insert(ViolatorListBatch)
        .values(
            id=batch_id,
            institution=institution,
            batch_key=posted.batch_key,
            client_credential_id=client.id,
            source_format=posted.source_format,
            status="processed",
            total_rows=len(posted.rows),
            accepted_rows=0,
            rejected_rows=0,
            rejections=[],
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["institution", "batch_key"])
        .returning(ViolatorListBatch.id)
    )
    if inserted is None:
        winner = await find_batch(session, institution=institution, batch_key=posted.batch_key)
        if winner is None:  # pragma: no cover - the conflicting row is committed by then
            raise RuntimeError("batch key conflict without a committed batch")
        return winner, False
    # A whole list's statements run longer than a single report's; only this transaction's
    # limit is raised.
    await session.execute(
        text(f"SET LOCAL statement_timeout = {int(settings.violator_list_statement_timeout_ms)}")
    )
    rules = await known_rules(session, rules_named(posted.rows))
    accepted, rejected = await judge_and_store_entries(
        session,
        rows=posted.rows,
        judge=partial(judge_rows, known_rules=rules, today=now.date()),
        context=ListContext(
            batch_id=batch_id,
            institution=institution,
            received_at=now,
            correlation_id=correlation_id,
            trace_context=current_trace_context(),
        ),
    )
    await session.execute(
        update(ViolatorListBatch)
        .where(ViolatorListBatch.id == batch_id)
        .values(
            accepted_rows=accepted,
            rejected_rows=len(rejected),
            rejections=[row.model_dump(mode="json") for row in rejected],
        )
    )
    batch = await session.get_one(ViolatorListBatch, batch_id)
    return batch, True


async def judge_and_store_entries(
    session: AsyncSession,
    *,
    rows: ReadRows,
    judge: Callable[[ReadRows], RowVerdicts],
    context: ListContext,
) -> tuple[int, list[RejectedRow]]:
    """Judge the rows a slice at a time and store each slice's accepted rows (entries, status
    lines) and one entries_stored message per slice, from which intake's worker stages each
    entry's message; returns how many were accepted, and the rejected rows in row order.

    Judging and preparing records is Python's CPU and COPY is the database's, so they overlap:
    the next slice is prepared in a thread (off the event loop) while this one is copied.
    """
    chunks = rows.chunks(JUDGE_CHUNK_ROWS)
    connection = await driver_connection(session)

    def prepare(chunk: ReadRows) -> PreparedSlice:
        return prepare_slice(judge(chunk), context=context)

    accepted = 0
    rejected: list[RejectedRow] = []
    row_spans: list[tuple[int, int]] = []
    with heap_frozen():
        pending = asyncio.ensure_future(to_thread.run_sync(prepare, chunks[0]))
        try:
            for following in [*chunks[1:], None]:
                prepared = await pending
                if following is not None:
                    pending = asyncio.ensure_future(to_thread.run_sync(prepare, following))
                rejected += prepared.rejected
                accepted += len(prepared.entries)
                if prepared.row_span is not None:
                    row_spans.append(prepared.row_span)
                await copy_slice(connection, prepared)
        finally:
            if not pending.done():
                with contextlib.suppress(Exception):
                    await pending
    await stage_slices_stored(session, context=context, row_spans=row_spans)
    rejected.sort(key=lambda row: row.row)
    return accepted, rejected


async def get_institution_batch(
    session: AsyncSession, *, batch_id: uuid.UUID, institution: str
) -> ViolatorListBatch:
    """The batch if the institution posted it; 404 otherwise, whether or not it exists."""
    batch = await session.scalar(
        select(ViolatorListBatch).where(
            ViolatorListBatch.id == batch_id, ViolatorListBatch.institution == institution
        )
    )
    if batch is None:
        raise BatchNotFound(f"No violator list {batch_id} for this institution.")
    return batch


async def batch_entries(
    session: AsyncSession, *, batch_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[ViolatorListEntry], int]:
    entries = (
        await session.scalars(
            select(ViolatorListEntry)
            .where(ViolatorListEntry.batch_id == batch_id)
            .order_by(ViolatorListEntry.row_number)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    total = await session.scalar(
        select(func.count())
        .select_from(ViolatorListEntry)
        .where(ViolatorListEntry.batch_id == batch_id)
    )
    return list(entries), int(total or 0)


def rejections_page(batch: ViolatorListBatch, *, offset: int, limit: int) -> list[dict[str, Any]]:
    return batch.rejections[offset : offset + limit]
