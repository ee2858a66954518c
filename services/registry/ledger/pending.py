"""A ledger record made ready to append before its place in the chain is known.

A single chain serialises its writers: whatever one writer does while it holds the ledger's
lock, every other writer waits for. So all that does not depend on the chain's head is done
before the lock is taken (the id, the columns, the salt and personal digest, the canonical
content but for the head's fields, the row's JSON, the ORM object), and under the lock only
the sequence, the recording time and the catalogue version are spliced in and the two hashes
computed (PendingRecord.place). The batch is then one INSERT of the rows as one JSON parameter.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from services.registry.base import SCHEMA
from services.registry.ledger.chain import (
    ADDED_FIELDS,
    CANONICAL_VERSION,
    CHAINED_FIELDS,
    PendingContent,
    link_hash,
    new_personal_salt,
    personal_digest,
)
from services.registry.ledger.entries import LedgerEntry, RetentionPurgeEntry
from services.registry.ledger.models import LedgerRecord

# What the chain's head decides for each record of a batch, set under the ledger's lock.
PLACED_COLUMNS = (
    "sequence",
    "recorded_at",
    "catalogue_version",
    "content_hash",
    "previous_hash",
    "chain_hash",
)
# Every chained column explicitly, null unless the entry sets it: what is hashed is exactly
# what is stored, whatever the kind. The placed columns too, so that the ORM object has every
# column loaded (set for real under the lock).
_BLANK = dict.fromkeys((*CHAINED_FIELDS, *ADDED_FIELDS, *PLACED_COLUMNS))

# A batch of records in one statement: every column from a JSON array of objects, converted
# by PostgreSQL to the column's own type (text to uuid, timestamptz, date; arrays to arrays).
# INSERT and SELECT * both take the table's own column order. A multi-row INSERT ... VALUES
# of a batch has ~50 bind parameters per record, which SQLAlchemy compiled anew for every
# batch (milliseconds of Python under the lock); this statement is compiled once. And one
# statement per batch: the ledger's statement-level tally trigger runs once per batch.
_LEDGER_TABLE = f"{SCHEMA}.{LedgerRecord.__tablename__}"
INSERT_ROWS = text(
    f"INSERT INTO {_LEDGER_TABLE} "
    f"SELECT * FROM jsonb_populate_recordset(NULL::{_LEDGER_TABLE}, CAST(:rows AS jsonb))"
)

_RECORD_MANAGER = inspect(LedgerRecord).class_manager


def _json_value(value: Any) -> str:
    """The JSON spelling of the values JSON has no type for, as PostgreSQL reads them back:
    UUIDs, dates, and timestamps with their offset and microseconds."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"no JSON form for {type(value).__name__} in a ledger row")


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_value, ensure_ascii=False, allow_nan=False)


class PendingRecord:
    """One entry made ready to append: its columns, canonical content and row but for what
    the chain's head decides, and its ORM object."""

    __slots__ = ("record", "_content", "_row_start", "row")

    def __init__(self, entry: LedgerEntry | RetentionPurgeEntry) -> None:
        record_id = uuid.uuid4()
        columns: dict[str, Any] = {
            **_BLANK,
            **entry.columns(record_id=record_id),
            "id": record_id,
            "personal_salt": new_personal_salt(),
            "canonical_version": CANONICAL_VERSION,
        }
        columns["personal_digest"] = personal_digest(columns)
        self._content = PendingContent(columns)
        # The row's JSON object without its closing brace, the placed columns still to come.
        self._row_start = _json(
            {name: value for name, value in columns.items() if name not in PLACED_COLUMNS}
        )[:-1]
        self.row = ""
        # As the ORM makes an object for a row it loads: the columns straight into its state,
        # without the constructor's attribute events (a cost per column), and no pending
        # changes. It joins the session only once its row is stored.
        self.record: LedgerRecord = _RECORD_MANAGER.new_instance()
        instance_state(self.record).dict.update(columns)
        make_transient_to_detached(self.record)

    def place(
        self, *, sequence: int, previous_hash: str, recorded_at: datetime, catalogue_version: int
    ) -> str:
        """Set what the chain's head decides (under the ledger's lock); the chain hash."""
        digest = self._content.content_hash(
            sequence=sequence, recorded_at=recorded_at, catalogue_version=catalogue_version
        )
        chain_hash = link_hash(previous_hash=previous_hash, content_hash=digest)
        placed = {
            "sequence": sequence,
            "recorded_at": recorded_at,
            "catalogue_version": catalogue_version,
            "content_hash": digest,
            "previous_hash": previous_hash,
            "chain_hash": chain_hash,
        }
        instance_state(self.record).dict.update(placed)
        self.row = f"{self._row_start}, {_json(placed)[1:]}"
        return chain_hash


# Records prepared between two yields to the event loop (see prepare_records).
PREPARE_SLICE = 10


async def prepare_records(
    entries: Sequence[LedgerEntry | RetentionPurgeEntry],
) -> list[PendingRecord]:
    """The entries made ready, yielding to the event loop every PREPARE_SLICE records.

    Writers that share an event loop (a worker's concurrent jobs) take turns at it: a batch
    prepared in one go would hold up, for as long as it takes, the writer that holds the
    ledger's lock and whose answer from the database is waiting, and with it every writer.
    """
    pending: list[PendingRecord] = []
    for start in range(0, len(entries), PREPARE_SLICE):
        if start:
            await asyncio.sleep(0)
        pending.extend(PendingRecord(entry) for entry in entries[start : start + PREPARE_SLICE])
    return pending


def rows_json(pending: list[PendingRecord]) -> str:
    """The placed records' rows as one JSON array, INSERT_ROWS's parameter."""
    return "[" + ", ".join(record.row for record in pending) + "]"
