"""Storing a list's accepted rows: per row one entry, its first status line and its
violator_list.entry_received message, all by COPY on the request's own connection (same
transaction), a slice at a time.

A 100,000-row list is three 100,000-row writes, and the database's one backend is the
bottleneck: so everything the database would otherwise compute per row is prepared in Python,
in a thread, while the database copies the previous slice (the machine's other core). That is
why the envelopes are JSON text made here rather than `jsonb_build_object` in an
INSERT ... SELECT: measured, COPYing ready text costs the database about half as much, and the
text is built from constant parts made once by the contract's own models (so the formats cannot
drift), plus each row's values escaped by the json module's C encoder.

Ids are time-ordered (UUIDv7 layout, one increasing counter per list), so the three tables'
indexes grow at their right edge instead of splitting pages all over.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from services.intake.base import SCHEMA
from services.intake.violator_lists.models import ViolatorListEntry
from services.intake.violator_lists.parsing import RowVerdicts
from services.intake.violator_lists.schemas import RejectedRow, ViolatorListRow
from shared.messages import Envelope, ViolatorListEntryReceived

ENTRY_COPY_COLUMNS = (
    "id",
    "batch_id",
    "row_number",
    "institution",
    "employee_ref",
    "name",
    "designation",
    "office",
    "rule",
    "platform",
    "finding",
    "found_on",
    "institution_finding_ref",
    "notice_and_reply_on_record",
    "received_at",
    "status",
    "status_changed_at",
)
STATUS_COPY_COLUMNS = ("submission_id", "status", "occurred_at")
OUTBOX_COPY_COLUMNS = ("message_id", "destination", "message_type", "envelope")
FIRST_STATUS = "received"

_encode_string = json.encoder.encode_basestring  # the C encoder: escapes and quotes a str
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)

# What a row's payload holds besides the entry's own values; checked against the contract
# when the module loads, so the two cannot drift apart unnoticed.
_ROW_FIELDS = (
    "entry_id",
    "row_number",
    "employee_ref",
    "name",
    "designation",
    "office",
    "rule",
    "platform",
    "finding",
    "found_on",
    "institution_finding_ref",
    "notice_and_reply_on_record",
)
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
        prefix = self._prefix
        low_mask = 2**62 - 1
        ids = []
        for n in range(start, start + count):
            digits = f"{prefix | (n >> 62) << 64 | (n & low_mask):032x}"
            ids.append(f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}")
        return ids


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
    messages: list[tuple[Any, ...]]


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


def prepare_slice(
    verdicts: RowVerdicts, *, context: ListContext, template: EnvelopeTemplate
) -> PreparedSlice:
    """The COPY records of a judged slice's accepted rows (run in a thread)."""
    accepted: list[tuple[int, ViolatorListRow]] = verdicts.accepted
    entry_ids = context.ids.take(len(accepted))
    destinations = template.destinations
    # One message id per row, whatever the destinations (the outbox's key is both).
    message_ids = context.ids.take(len(accepted))
    received_at = context.received_at
    entries = [
        (
            entry_id,
            context.batch_id,
            number,
            context.institution,
            row["employee_ref"],
            row["name"],
            row["designation"],
            row["office"],
            row["rule"],
            row["platform"],
            row["finding"],
            row["found_on"],
            row["institution_finding_ref"],
            row["notice_and_reply_on_record"],
            received_at,
            FIRST_STATUS,
            received_at,
        )
        for entry_id, (number, row) in zip(entry_ids, accepted, strict=True)
    ]
    statuses = [(entry_id, FIRST_STATUS, received_at) for entry_id in entry_ids]
    message_type = template.message_type
    render = template.render
    messages = [
        (message_id, destination, message_type, envelope)
        for message_id, envelope in zip(
            message_ids,
            (
                render(message_id=message_id, entry_id=entry_id, number=number, row=row)
                for message_id, entry_id, (number, row) in zip(
                    message_ids, entry_ids, accepted, strict=True
                )
            ),
            strict=True,
        )
        for destination in destinations
    ]
    return PreparedSlice(
        rejected=verdicts.rejected, entries=entries, statuses=statuses, messages=messages
    )


async def copy_slice(connection: asyncpg.Connection, prepared: PreparedSlice) -> None:
    """COPY a prepared slice: entries, their first status lines, their messages."""
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
    # COPY fires the outbox's statement trigger, so the relay is woken as after an INSERT.
    await connection.copy_records_to_table(
        "outbox_message",
        schema_name=SCHEMA,
        columns=OUTBOX_COPY_COLUMNS,
        records=prepared.messages,
    )
