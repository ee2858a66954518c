"""Accepting violator lists: read the body, judge each row, then store the batch, one entry per
accepted row and its first status line, all in the request's one transaction.

A list may hold 100,000 rows, so no ORM object per row: a slice of rows at a time is read,
judged and made into COPY records in a thread while the previous slice is copied on the
session's own connection (storing.py), so Python's work and the database's overlap. Each slice is announced
by one violator_list.entries_stored message, from which intake's worker stages the slice's
per-entry violator_list.entry_received messages once the upload is committed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
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
from services.intake.violator_lists.judging import RowVerdicts, judge_rows
from services.intake.violator_lists.models import ViolatorListBatch, ViolatorListEntry
from services.intake.violator_lists.parsing import ReadRows, csv_slices, read_json
from services.intake.violator_lists.schemas import BatchKey, RejectedRow
from services.intake.violator_lists.storing import (
    ListContext,
    PreparedSlice,
    copy_slice,
    prepare_slice,
    stage_slices_stored,
)
from shared.db import driver_connection
from shared.errors import FieldProblem
from shared.tracing import current_trace_context

SourceFormat = Literal["csv", "json"]

# Rows judged per slice: big enough that each COPY is worth its round trips, small enough that
# the database starts early and judging the next slice overlaps copying this one.
JUDGE_CHUNK_ROWS = 5_000


class CollectorPause:
    """The cyclic garbage collector paused while lists are read, judged and copied (from the
    first such upload in the process to the last, whatever their threads). A list's 100,000
    rows are a million new objects, none of them cyclic garbage: each of the collector's passes
    over them is wasted, and they set off so many that measured, they doubled the CPU of judging
    and preparing a list. Reference counting still frees everything meanwhile; only cycles
    wait, for a few seconds, until the collector resumes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    gc.enable()


collector_paused = CollectorPause()


@dataclass(frozen=True)
class PostedList:
    """A list as read from the body, before its rows are judged: its rows come a slice at a
    time as they are asked for (a CSV's are read then, in the thread that judges them)."""

    batch_key: str
    source_format: SourceFormat
    slices: Iterator[ReadRows]


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
    """The list in the body; refuses the whole list (nothing stored) if it cannot be read.
    A CSV's header is read here, its rows as the slices are asked for."""
    if source_format == "csv":
        key = check_batch_key(batch_key)
        return PostedList(
            batch_key=key,
            source_format="csv",
            slices=csv_slices(body, max_rows=max_rows, size=JUDGE_CHUNK_ROWS),
        )
    if batch_key is not None:
        raise ListUnreadable(
            "A JSON list carries its batch key in the body, not in the query.",
            errors=[FieldProblem(field="batch_key", message="send it in the JSON body")],
        )
    key, rows = read_json(body, max_rows=max_rows)
    return PostedList(
        batch_key=check_batch_key(key),
        source_format="json",
        slices=iter(rows.chunks(JUDGE_CHUNK_ROWS)),
    )


async def receive_list(
    session: AsyncSession,
    body: bytes,
    *,
    source_format: SourceFormat,
    batch_key: str | None,
    client: ClientCredential,
    settings: IntakeSettings,
    correlation_id: str,
) -> tuple[ViolatorListBatch, bool]:
    """Read the list in the body (in a thread), then judge and store it: accept_violator_list."""
    with collector_paused():
        posted = await to_thread.run_sync(
            partial(
                read_posted_list,
                body,
                source_format=source_format,
                batch_key=batch_key,
                max_rows=settings.violator_list_max_rows,
            )
        )
        return await accept_violator_list(
            session, posted=posted, client=client, settings=settings, correlation_id=correlation_id
        )


async def find_batch(
    session: AsyncSession, *, institution: str, batch_key: str
) -> ViolatorListBatch | None:
    return await session.scalar(
        select(ViolatorListBatch).where(
            ViolatorListBatch.institution == institution,
            ViolatorListBatch.batch_key == batch_key,
        )
    )


async def transaction_time(session: AsyncSession) -> datetime:
    return (await session.execute(select(func.now()))).scalar_one()


async def catalogue_codes(session: AsyncSession) -> set[str]:
    """Every rule code in the catalogue (a few dozen), so that each slice of a list is judged
    as it is read, without asking the database about its rules."""
    return set((await session.scalars(select(RuleReference.code))).all())


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
        # Read to the end all the same: a list that cannot be read is refused, as the first
        # time, whether or not its key was used.
        await to_thread.run_sync(collections.deque, posted.slices, 0)
        return earlier, False
    # The transaction's time, which the entries' and status lines' own times default to.
    now = await transaction_time(session)
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
            total_rows=0,
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
    rules = await catalogue_codes(session)
    accepted, rejected = await judge_and_store_entries(
        session,
        slices=posted.slices,
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
            total_rows=accepted + len(rejected),
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
    slices: Iterator[ReadRows],
    judge: Callable[[ReadRows], RowVerdicts],
    context: ListContext,
) -> tuple[int, list[RejectedRow]]:
    """Read and judge the rows a slice at a time and store each slice's accepted rows
    (entries, status lines) and one entries_stored message per slice, from which intake's
    worker stages each entry's message; returns how many were accepted, and the rejected rows
    in row order.

    Reading, judging and preparing records is Python's CPU and COPY is the database's, so they
    overlap: the next slice is read and prepared in a thread (off the event loop) while this one
    is copied. A list refused halfway (too many rows, a quote never closed) raises from here,
    and its transaction stores nothing.
    """
    connection = await driver_connection(session)

    def prepare_next() -> PreparedSlice | None:
        rows = next(slices, None)
        return None if rows is None else prepare_slice(judge(rows), context=context)

    accepted = 0
    rejected: list[RejectedRow] = []
    row_spans: list[tuple[int, int]] = []
    pending = asyncio.ensure_future(to_thread.run_sync(prepare_next))
    try:
        while (prepared := await pending) is not None:
            pending = asyncio.ensure_future(to_thread.run_sync(prepare_next))
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
