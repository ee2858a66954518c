"""Storing a list's accepted rows: per row one entry and its first status line, by COPY on the
request's own connection (same transaction), a slice at a time; per slice one
violator_list.entries_stored message, from which intake's worker stages each entry's
violator_list.entry_received (stage_entry_messages), in its own transaction, exactly once.

A 100,000-row list's writes are the database's one backend's work, the bottleneck of the
upload: so everything the database would otherwise compute per row is prepared in Python, in
a thread, while the database copies the previous slice (the machine's other core). The
per-entry messages, each a JSON document the database must parse, would be the upload's largest
write (a third of its database time, measured): staged after the upload, a slice per job, they
no longer hold up the answer, and each row still becomes exactly one message.

The envelopes are JSON text made here rather than `jsonb_build_object` in an
INSERT ... SELECT: measured, COPYing ready text costs the database about half as much, and the
text is built from constant parts made once by the contract's own models (so the formats cannot
drift), plus each row's values escaped by the json module's C encoder.

Ids are time-ordered (UUIDv7 layout, one increasing counter per list), so the tables' indexes
grow at their right edge instead of splitting pages all over.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import repeat
from typing import Any

import asyncpg
from anyio import to_thread
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.base import SCHEMA
from services.intake.violator_lists.judging import RowVerdicts
from services.intake.violator_lists.models import ViolatorListEntry
from services.intake.violator_lists.schemas import LIST_COLUMNS, RejectedRow
from shared.consumer import MessageHandler
from shared.db import driver_connection
from shared.messages import Envelope, ViolatorListEntriesStored, ViolatorListEntryReceived
from shared.outbox import stage_messages
from shared.tracing import current_trace_context

# An entry's received_at and status_changed_at, and its status line's occurred_at, are left
# to the columns' default, the transaction's time (the batch's received_at): asyncpg encodes a
# datetime in about a microsecond, which three per row made most of the records' encoding.
ENTRY_COPY_COLUMNS = ("id", "batch_id", "row_number", "institution", *LIST_COLUMNS, "status")
STATUS_COPY_COLUMNS = ("submission_id", "status")
OUTBOX_COPY_COLUMNS = ("message_id", "destination", "message_type", "envelope")
FIRST_STATUS = "received"

_encode_string = json.encoder.encode_basestring  # the C encoder: escapes and quotes a str
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)

# What a row's payload holds besides the entry's own values; checked against the contract
# when the module loads, so the two cannot drift apart unnoticed.
_ROW_FIELDS = ("entry_id", "row_number", *LIST_COLUMNS)
_LIST_FIELDS = ("batch_id", "institution", "received_at")
if set(_ROW_FIELDS + _LIST_FIELDS) != set(ViolatorListEntryReceived.model_fields):
    raise RuntimeError("storing's envelope fields no longer match ViolatorListEntryReceived")


class TimeOrderedIds:
    """UUIDv7-shaped ids for one list: the current millisecond, then a 74-bit counter that
    starts at a random point and goes up by one per id, so they sort in the order given.

    Given as text (asyncpg encodes a uuid from its text, and the envelopes want the text):
    making 200,000 uuid.UUID objects would cost more than the rest of a slice's records.
    """

    def __init__(self) -> None:
        millis = time.time_ns() // 1_000_000
        self._prefix = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | 0b10 << 62
        # Half the counter's room, so 100,000 increments never carry into the timestamp.
        self._counter = int.from_bytes(os.urandom(10), "big") >> 7

    def take(self, count: int) -> list[str]:
        start = self._counter
        self._counter += count
        ids: list[str] = []
        # Within a run of 2**48 counts only the last twelve digits change: the rest is made
        # once per run, the twelve digits by one C loop (a str.format per id, no arithmetic).
        while start < self._counter:
            stop = min(self._counter, (start >> 48) + 1 << 48)
            first = f"{self._id(start):032x}"
            head = f"{first[:8]}-{first[8:12]}-{first[12:16]}-{first[16:20]}-"
            low = start & (2**48 - 1)
            ids += map(head.__add__, map("{:012x}".format, range(low, low + stop - start)))
            start = stop
        return ids

    def _id(self, n: int) -> int:
        return self._prefix | (n >> 62) << 64 | (n & (2**62 - 1))


@dataclass(frozen=True)
class ListContext:
    """What every row of one list shares."""

    batch_id: uuid.UUID
    institution: str
    received_at: datetime
    correlation_id: str
    trace_context: dict[str, str] | None = None
    ids: TimeOrderedIds = field(default_factory=TimeOrderedIds)


@dataclass
class PreparedSlice:
    """One slice of a list, judged, with its COPY records ready."""

    rejected: list[RejectedRow]
    entries: list[tuple[Any, ...]]
    statuses: list[tuple[Any, ...]]
    # The first and last accepted row's numbers (None when no row was accepted).
    row_span: tuple[int, int] | None


class EnvelopeTemplate:
    """Makes entry_received envelopes as JSON text: the constant parts once, from the models."""

    def __init__(self, context: ListContext) -> None:
        sample = Envelope.wrap(
            _sample_payload(context),
            producer="intake",
            correlation_id=context.correlation_id,
            trace_context=context.trace_context,
        )
        self.message_type = sample.type
        self.destinations = ViolatorListEntryReceived.consumers
        envelope = json.loads(sample.model_dump_json())
        envelope.pop("message_id")
        envelope.pop("payload")
        self._head = '{"message_id":"'
        self._middle = '",' + json.dumps(envelope, separators=(",", ":"))[1:-1] + ',"payload":{'
        self._list_part = (
            f'"batch_id":"{context.batch_id}",'
            f'"institution":{_encode_string(context.institution)},'
            f'"received_at":{_DATETIME.dump_json(context.received_at).decode()}'
        )

    def render(self, *, message_id: str, entry_id: str, number: int, row: Any) -> str:
        office = row["office"]
        return "".join(
            (
                self._head,
                message_id,
                self._middle,
                self._list_part,
                ',"entry_id":"',
                entry_id,
                '","row_number":',
                str(number),
                ',"employee_ref":',
                _encode_string(row["employee_ref"]),
                ',"name":',
                _encode_string(row["name"]),
                ',"designation":',
                _encode_string(row["designation"]),
                ',"office":',
                "null" if office is None else _encode_string(office),
                ',"rule":',
                _encode_string(row["rule"]),
                ',"platform":',
                _encode_string(row["platform"]),
                ',"finding":',
                _encode_string(row["finding"]),
                ',"found_on":"',
                row["found_on"].isoformat(),
                '","institution_finding_ref":',
                _encode_string(row["institution_finding_ref"]),
                ',"notice_and_reply_on_record":',
                "true" if row["notice_and_reply_on_record"] else "false",
                "}}",
            )
        )


def _sample_payload(context: ListContext) -> ViolatorListEntryReceived:
    return ViolatorListEntryReceived(
        entry_id=uuid.UUID(int=0),
        batch_id=context.batch_id,
        row_number=1,
        institution=context.institution,
        employee_ref="x",
        name="x",
        designation="x",
        office=None,
        rule="x",
        platform="other",
        finding="x",
        found_on=date(2000, 1, 1),
        institution_finding_ref="x",
        notice_and_reply_on_record=False,
        received_at=context.received_at,
    )


def prepare_slice(verdicts: RowVerdicts, *, context: ListContext) -> PreparedSlice:
    """The COPY records of a judged slice's accepted rows (run in a thread), zipped from its
    columns: no Python-level loop per row."""
    numbers = verdicts.numbers
    entry_ids = context.ids.take(len(numbers))
    entries = list(
        zip(
            entry_ids,
            repeat(str(context.batch_id)),
            numbers,
            repeat(context.institution),
            *(verdicts.columns[name] for name in LIST_COLUMNS),
            repeat(FIRST_STATUS),
        )
    )
    statuses = list(zip(entry_ids, repeat(FIRST_STATUS)))
    return PreparedSlice(
        rejected=verdicts.rejected,
        entries=entries,
        statuses=statuses,
        row_span=(numbers[0], numbers[-1]) if numbers else None,
    )


async def copy_slice(connection: asyncpg.Connection, prepared: PreparedSlice) -> None:
    """COPY a prepared slice: entries and their first status lines."""
    if not prepared.entries:
        return
    await connection.copy_records_to_table(
        ViolatorListEntry.__tablename__,
        schema_name=SCHEMA,
        columns=ENTRY_COPY_COLUMNS,
        records=prepared.entries,
    )
    await connection.copy_records_to_table(
        "submission_status_event",
        schema_name=SCHEMA,
        columns=STATUS_COPY_COLUMNS,
        records=prepared.statuses,
    )


async def stage_slices_stored(
    session: AsyncSession,
    *,
    context: ListContext,
    row_spans: list[tuple[int, int]],
) -> None:
    """One violator_list.entries_stored message per stored slice, in the upload's transaction."""
    await stage_messages(
        session,
        [
            (
                ViolatorListEntriesStored(
                    batch_id=context.batch_id, first_row=first, last_row=last
                ),
                context.correlation_id,
            )
            for first, last in row_spans
        ],
        producer="intake",
    )


def entry_messages(
    entries: Sequence[Mapping[str, Any]], *, context: ListContext, template: EnvelopeTemplate
) -> list[tuple[Any, ...]]:
    """The outbox records of stored entries' entry_received messages: one message id per
    entry, whatever the destinations (the outbox's key is both)."""
    message_ids = context.ids.take(len(entries))
    message_type = template.message_type
    render = template.render
    return [
        (message_id, destination, message_type, envelope)
        for message_id, envelope in zip(
            message_ids,
            (
                render(
                    message_id=message_id,
                    entry_id=str(entry["id"]),
                    number=entry["row_number"],
                    row=entry,
                )
                for message_id, entry in zip(message_ids, entries, strict=True)
            ),
            strict=True,
        )
        for destination in template.destinations
    ]


ENTRY_MESSAGE_COLUMNS = ("id", "row_number", "institution", "received_at", *LIST_COLUMNS)


async def stage_entry_messages(
    session: AsyncSession, stored: ViolatorListEntriesStored, envelope: Envelope
) -> None:
    """intake's worker: stage the violator_list.entry_received message of each entry of a
    stored slice, in the transaction that records the slice's message as processed (so each
    entry is announced exactly once, however often the slice's message is delivered)."""
    connection = await driver_connection(session)
    entries = await connection.fetch(
        f"SELECT {', '.join(ENTRY_MESSAGE_COLUMNS)} FROM {SCHEMA}.{ViolatorListEntry.__tablename__} "
        "WHERE batch_id = $1 AND row_number BETWEEN $2 AND $3 ORDER BY row_number",
        stored.batch_id,
        stored.first_row,
        stored.last_row,
    )
    if not entries:
        return
    context = ListContext(
        batch_id=stored.batch_id,
        institution=entries[0]["institution"],
        received_at=entries[0]["received_at"],
        correlation_id=envelope.correlation_id,
        trace_context=current_trace_context(),
    )
    template = EnvelopeTemplate(context)
    messages = await to_thread.run_sync(
        partial(entry_messages, entries, context=context, template=template)
    )
    # COPY fires the outbox's statement trigger, so the relay is woken as after an INSERT.
    await connection.copy_records_to_table(
        "outbox_message", schema_name=SCHEMA, columns=OUTBOX_COPY_COLUMNS, records=messages
    )


on_entries_stored = MessageHandler(ViolatorListEntriesStored, stage_entry_messages)
