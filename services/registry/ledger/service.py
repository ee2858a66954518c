"""Appending to the ledger, recording review's determinations, and reading the ledger back:
violations for readers as the registry stood at any moment, the whole chain for verification.

Reading `as_of` a moment (bitemporal, on the recording time): a record counts if it was
recorded by then, and counts as superseded only if the record superseding it was recorded by
then too. recorded_at is taken under the ledger lock, so it rises with the chain's sequence.
A record becomes visible when its transaction commits, an instant after its recorded_at: only a
query as of the last instant or so can answer differently when asked again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import structlog
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, configure_mappers

from services.registry.base import SCHEMA
from services.registry.catalogue.service import current_catalogue_version
from services.registry.ledger.chain import GENESIS_HASH, ChainVerification, ChainVerifier
from services.registry.ledger.entries import LedgerEntry, RecordEntry, RetentionPurgeEntry
from services.registry.ledger.errors import (
    ConflictingDetermination,
    RecordAlreadyExists,
    ViolationNotFound,
)
from services.registry.ledger.models import (
    DETERMINATION_KINDS,
    FINDING_KINDS,
    VERSION_PREDICATE,
    LedgerRecord,
)
from services.registry.ledger.pending import INSERT_ROWS, prepare_records, rows_json
from shared.db import utcnow
from shared.messages import DeterminationRecorded, RecordCreated
from shared.outbox import stage_message

logger = structlog.get_logger(__name__)

# Key of the transaction-level advisory lock that serialises appends to the single chain
# ("registry" in ASCII). Distinct from the migrations' hashtext(schema) locks.
LEDGER_LOCK_KEY = 0x7265_6769_7374_7279


# The lock, then the head and the catalogue in force, in one round trip (registry_0012).
_LOCK_LEDGER_HEAD = text(
    f"SELECT head_sequence, head_hash, catalogue_version FROM {SCHEMA}.lock_ledger_head(:key)"
)


async def lock_ledger(session: AsyncSession) -> None:
    """Take the ledger's append lock until the transaction ends (re-entrant within it)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK_KEY})


async def ledger_head(session: AsyncSession) -> tuple[int, str] | None:
    """(sequence, chain hash) of the newest record, or None for an empty ledger. Sequences are
    gap-free from 1, so the head's sequence is also the record count."""
    head = (
        await session.execute(
            select(LedgerRecord.sequence, LedgerRecord.chain_hash)
            .order_by(LedgerRecord.sequence.desc())
            .limit(1)
        )
    ).first()
    return (head.sequence, head.chain_hash) if head else None


async def announce_record(
    session: AsyncSession, *, record: LedgerRecord, correlation_id: str
) -> None:
    """Tell intake and review a record exists (record.created), in the record's transaction:
    the portal's status and the case follow from it, whatever the record's kind."""
    await stage_message(
        session,
        RecordCreated(
            record_id=record.id,
            record_kind=record.record_kind,
            case_id=record.case_id,
            submission_id=record.submission_id,
            recorded_at=record.recorded_at,
        ),
        producer="registry",
        correlation_id=correlation_id,
    )


async def append_record(session: AsyncSession, *, entry: LedgerEntry) -> LedgerRecord:
    """Append one record at the head of the chain, in the caller's transaction.

    Appends are serialised by the ledger lock, so the head read here is still the head when
    the record is inserted: sequences stay gap-free and the chain stays linear.
    """
    if isinstance(entry, RecordEntry) and entry.record_kind not in FINDING_KINDS:
        raise ValueError(f"not a kind of finding: {entry.record_kind}")
    await lock_ledger(session)
    if (
        isinstance(entry, RecordEntry)
        and entry.supersedes_id is None
        and entry.record_kind in DETERMINATION_KINDS
    ):
        existing = await session.scalar(
            select(LedgerRecord.id).where(
                LedgerRecord.case_id == entry.case_id,
                LedgerRecord.record_kind == entry.record_kind,
                LedgerRecord.supersedes_id.is_(None),
            )
        )
        if existing is not None:
            raise RecordAlreadyExists(
                f"Case {entry.case_id} already has a {entry.record_kind} record.",
                existing_id=existing,
            )
    (record,) = await append_records(session, entries=[entry])
    return record


async def append_records(
    session: AsyncSession, *, entries: Sequence[LedgerEntry | RetentionPurgeEntry]
) -> list[LedgerRecord]:
    """Append several records at the head of the chain, in order, under one acquisition of the
    ledger lock and one flush: a single chain serialises its writers, so whoever has several
    records to append holds the lock once for all of them rather than once per record.

    What does not depend on the chain's head is made ready before the lock is taken, so that
    other writers' work overlaps it (services/registry/ledger/pending.py); under the lock only
    the sequence, the recording time, the catalogue version and the two hashes are set. No
    check of the entries' own rules here: append_record (or the caller) makes them.
    """
    configure_mappers()  # the records are made without the constructor that would see to it
    pending = await prepare_records(entries)
    # The lock, the head and the catalogue in force in one round trip: a single chain
    # serialises its writers, so every round trip made under the lock is one that every
    # writer waits for.
    head_sequence, head_hash, catalogue_version = (
        await session.execute(_LOCK_LEDGER_HEAD, {"key": LEDGER_LOCK_KEY})
    ).one()
    if catalogue_version is None:
        catalogue_version = await current_catalogue_version(session)  # raises CatalogueMissing
    sequence, previous_hash = (
        (head_sequence + 1, head_hash) if head_sequence is not None else (1, GENESIS_HASH)
    )
    recorded_at = utcnow()
    for offset, record in enumerate(pending):
        previous_hash = record.place(
            sequence=sequence + offset,
            previous_hash=previous_hash,
            recorded_at=recorded_at,
            catalogue_version=catalogue_version,
        )
    if pending:
        await session.execute(INSERT_ROWS, {"rows": rows_json(pending)})
    # The rows are stored: the session holds the objects as loaded, with nothing to flush.
    records = [record.record for record in pending]
    session.add_all(records)
    return records


def _same_determination(record: LedgerRecord, entry: RecordEntry) -> bool:
    return (
        record.record_kind == entry.record_kind
        and record.submission_id == entry.submission_id
        and record.employee_ref == entry.employee_ref
        and list(record.rules_cited or ()) == list(entry.rules_cited)
        and record.reasons == entry.reasons
        and record.effective_on == entry.effective_on
        and record.determined_by == entry.determined_by
        and record.countersigned_by == entry.countersigned_by
    )


async def record_determination(
    session: AsyncSession, *, determination: DeterminationRecorded, correlation_id: str
) -> LedgerRecord | None:
    """Record a final determination (a violation or a cleared finding) and announce it.

    Returns None when the ledger already holds this very determination (a copy sent under
    another message id): nothing is appended or announced again. A different determination
    for a case already recorded is refused with ConflictingDetermination.
    """
    entry = RecordEntry(
        record_kind="violation" if determination.finding == "violation" else "cleared_finding",
        case_id=determination.case_id,
        submission_id=determination.submission_id,
        department=determination.department,
        employee_ref=determination.employee_ref,
        employee_name=determination.employee_name,
        rules_cited=list(determination.rules_cited),
        platform=determination.platform,
        reasons=determination.reasons,
        determined_by=determination.determined_by,
        countersigned_by=determination.countersigned_by,
        effective_on=determination.effective_on,
        reported_at=determination.reported_at,
    )
    # Under the lock, so two copies processed at once cannot both pass this check.
    await lock_ledger(session)
    earlier = await session.scalar(
        select(LedgerRecord).where(
            LedgerRecord.case_id == determination.case_id,
            LedgerRecord.record_kind.in_(DETERMINATION_KINDS),
            LedgerRecord.supersedes_id.is_(None),
        )
    )
    if earlier is not None:
        if _same_determination(earlier, entry):
            logger.info(
                "determination already recorded", case_id=str(entry.case_id), record_id=earlier.id
            )
            return None
        raise ConflictingDetermination(
            f"Case {entry.case_id} already has {earlier.record_kind} record {earlier.id}; "
            "a different determination must come as a superseding record."
        )
    record = await append_record(session, entry=entry)
    await announce_record(session, record=record, correlation_id=correlation_id)
    return record


ViolationStatus = Literal["current", "superseded"]


@dataclass(frozen=True)
class RecordVersion:
    """A record as the registry stood at some moment: the record, and what superseded it by
    then (None while it was the current version)."""

    record: LedgerRecord
    superseded_by: uuid.UUID | None

    @property
    def status(self) -> ViolationStatus:
        return "current" if self.superseded_by is None else "superseded"


def _versions_as_of(as_of: datetime | None) -> Select[LedgerRecord, uuid.UUID]:
    """Violation versions recorded by as_of, each with its successor recorded by as_of (a
    null successor: still current then). as_of None means everything recorded so far, with
    no clock involved: what a write must check against."""
    successor = aliased(LedgerRecord)
    superseded_by = select(successor.id).where(successor.supersedes_id == LedgerRecord.id)
    # IS_VIOLATION_VERSION in the words of the partial indexes that serve it (registry_0010).
    query = select(LedgerRecord).where(
        text(
            "("
            + VERSION_PREDICATE.replace("record_kind", "ledger_record.record_kind").replace(
                "appeal_outcome =", "ledger_record.appeal_outcome ="
            )
            + ")"
        )
    )
    if as_of is not None:
        superseded_by = superseded_by.where(successor.recorded_at <= as_of)
        query = query.where(LedgerRecord.recorded_at <= as_of)
    return query.add_columns(
        superseded_by.correlate(LedgerRecord).scalar_subquery().label("superseded_by")
    )


def filtered_versions(
    *,
    department_scope: str | None,
    as_of: datetime,
    department: str | None = None,
    rule: str | None = None,
    platform: str | None = None,
    status: ViolationStatus | None = None,
) -> Select[LedgerRecord, uuid.UUID]:
    """Violation versions as of a moment, narrowed by the filters readers may give: the query
    behind a page of violations and behind their CSV export.

    department_scope is the reader's own department (None: every department); the department
    filter narrows within it."""
    query = _versions_as_of(as_of)
    for column, wanted in (
        (LedgerRecord.department, department_scope),
        (LedgerRecord.department, department),
        (LedgerRecord.platform, platform),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    if rule is not None:
        query = query.where(LedgerRecord.rules_cited.contains([rule]))
    if status is not None:
        superseded_by = query.selected_columns.superseded_by
        query = query.where(
            superseded_by.is_(None) if status == "current" else superseded_by.is_not(None)
        )
    return query


async def list_violations(
    session: AsyncSession,
    *,
    department_scope: str | None,
    as_of: datetime,
    department: str | None = None,
    rule: str | None = None,
    platform: str | None = None,
    status: ViolationStatus | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[RecordVersion], int | None]:
    """One page of violation versions in chain order as of a moment, and the next cursor.
    Corrections are versions of a violation and are listed too."""
    query = filtered_versions(
        department_scope=department_scope,
        as_of=as_of,
        department=department,
        rule=rule,
        platform=platform,
        status=status,
    )
    if after is not None:
        query = query.where(LedgerRecord.sequence > after)
    # Two steps: which sequences make the page (one row beyond it tells whether another page
    # follows), found from the covering partial indexes alone, without reading a row that is
    # filtered out (registry_0010); then those rows, whole.
    page_sequences = (
        query.with_only_columns(LedgerRecord.sequence)
        .order_by(LedgerRecord.sequence)
        .limit(limit + 1)
        .correlate(None)
    )
    rows = (
        await session.execute(
            _versions_as_of(as_of)
            .where(LedgerRecord.sequence.in_(page_sequences))
            .order_by(LedgerRecord.sequence)
        )
    ).all()
    page = [RecordVersion(record=row[0], superseded_by=row[1]) for row in rows[:limit]]
    next_cursor = page[-1].record.sequence if len(rows) > limit else None
    return page, next_cursor


async def get_violation(
    session: AsyncSession,
    *,
    record_id: uuid.UUID,
    department_scope: str | None,
    as_of: datetime | None = None,
) -> RecordVersion:
    """The violation version as of a moment (default: as it stands now) if the reader may see
    it; 404 otherwise, whether it does not exist, was not yet recorded, or is another
    department's."""
    query = _versions_as_of(as_of).where(LedgerRecord.id == record_id)
    if department_scope is not None:
        query = query.where(LedgerRecord.department == department_scope)
    row = (await session.execute(query)).first()
    if row is None:
        raise ViolationNotFound(f"No violation {record_id} for this credential.")
    return RecordVersion(record=row[0], superseded_by=row[1])


async def verify_ledger(session: AsyncSession, *, batch_size: int) -> ChainVerification:
    """Recompute the whole chain in sequence order, batch by batch (keyset on sequence).

    Rows are read as plain mappings, not ORM objects, so nothing accumulates in the session.
    Appends that commit meanwhile only extend the chain, so a batch read later stays consistent
    with the batches before it.
    """
    verifier = ChainVerifier()
    table = LedgerRecord.__table__
    after = 0
    while True:
        batch = (
            (
                await session.execute(
                    select(table)
                    .where(table.c.sequence > after)
                    .order_by(table.c.sequence)
                    .limit(batch_size)
                )
            )
            .mappings()
            .all()
        )
        for stored in batch:
            if not verifier.check(dict(stored)):
                return verifier.result()
        if len(batch) < batch_size:
            return verifier.result()
        after = batch[-1]["sequence"]
