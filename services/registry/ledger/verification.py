"""Verifying the whole chain inside PostgreSQL, in segments checked in parallel: the path
GET /v1/audit/verify and `conduct ledger verify` take (ChainVerifier in chain.py is the same
check record by record in Python, and stays the reference a test holds this one to).

Every record's checks depend only on the record and the one before it (its sequence, its
previous hash against that record's chain hash, its own content and chain hashes), so the
chain can be cut into segments of sequence and each segment checked on its own connection (a
PostgreSQL backend each, so on as many cores), with a window over the record just before the
segment joining it to the one before. All the connections read one exported snapshot, so the
segments add up to one consistent ledger whatever is appended meanwhile.

Inside a segment, one query recomputes for each record in canonical form version 2 its
personal digest and content hash (sha256 of jsonb_build_array(...)::text, which is how version
2 is defined: chain.py writes the same bytes in Python), its chain hash, and checks its
sequence and previous hash; it returns only the records worth a second look: the first one
broken, purged records and retention purges (to check that each purge names only earlier
purged records and every purged record is named), and the segment's last record. Records in
canonical form version 1 (appended before registry_0009) are recomputed in Python, streamed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.registry.ledger.chain import (
    CHAIN_HASH_FAULT,
    CONTENT_HASH_FAULT,
    GENESIS_HASH,
    NAMES_UNPURGED_FAULT,
    PERSONAL_DIGEST_FAULT,
    PERSONAL_FIELDS,
    PREVIOUS_HASH_FAULT,
    PURGED_PERSONAL_FAULT,
    SEQUENCE_GAP,
    TIMESTAMP_FIELDS,
    UNNAMED_PURGE_FAULT,
    V2_FIELDS,
    V2_PERSONAL_FIELDS,
    BrokenLink,
    ChainVerification,
    content_fault,
)
from shared.settings import to_plain_url

LEDGER = "registry.ledger_record"
# Version 1 records are read back this many at a time.
V1_BATCH = 5_000


def _sql_value(name: str) -> str:
    if name in TIMESTAMP_FIELDS:
        return f"(extract(epoch FROM r.{name}) * 1000000)::bigint"
    return f"r.{name}"


def _sha256_hex(expression: str) -> str:
    return f"encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"


def _jsonb_array(names: Sequence[str]) -> str:
    return f"jsonb_build_array({', '.join(_sql_value(name) for name in names)})::text"


# Canonical form version 2 rebuilt from the stored columns of record `r`.
PERSONAL_V2_SQL = _jsonb_array(V2_PERSONAL_FIELDS)
CONTENT_V2_SQL = _jsonb_array(V2_FIELDS)
PERSONAL_DIGEST_V2_SQL = _sha256_hex(PERSONAL_V2_SQL)
CONTENT_HASH_V2_SQL = _sha256_hex(CONTENT_V2_SQL)
# Why a record is broken, in the order ChainVerifier looks: the first that applies is given.
FAULT_SQL = f"""
    CASE
        WHEN r.sequence <> coalesce(lag(r.sequence) OVER chain, :before) + 1 THEN 'sequence'
        WHEN r.previous_hash <> coalesce(lag(r.chain_hash) OVER chain, :before_hash)
            THEN 'previous'
        WHEN r.personal_salt IS NULL AND NOT ({" AND ".join(f"r.{n} IS NULL" for n in PERSONAL_FIELDS)})
            THEN 'purged_personal'
        WHEN r.canonical_version = 2 AND r.personal_salt IS NOT NULL
            AND r.personal_digest <> {PERSONAL_DIGEST_V2_SQL} THEN 'personal'
        WHEN r.canonical_version = 2 AND r.content_hash <> {CONTENT_HASH_V2_SQL} THEN 'content'
        WHEN r.canonical_version NOT IN (1, 2) THEN 'content'
        WHEN r.chain_hash <> {_sha256_hex("r.previous_hash || r.content_hash")} THEN 'chain'
    END
"""
# One segment: the records with from_sequence < sequence <= to_sequence, each checked against
# the record before it (:before and :before_hash for the first: the segment's predecessor).
SEGMENT_SQL = f"""
SELECT sequence, id, fault, prior_sequence, prior_hash, chain_hash, purged, purged_record_ids
FROM (
    SELECT r.sequence, r.id, {FAULT_SQL} AS fault,
           lag(r.sequence) OVER chain AS prior_sequence,
           lag(r.chain_hash) OVER chain AS prior_hash,
           r.chain_hash, r.personal_salt IS NULL AS purged, r.purged_record_ids
    FROM {LEDGER} r
    WHERE r.sequence > :from_sequence AND r.sequence <= :to_sequence
    WINDOW chain AS (ORDER BY r.sequence)
) checked
WHERE fault IS NOT NULL OR purged OR purged_record_ids IS NOT NULL
    OR sequence = :to_sequence
ORDER BY sequence
"""
REASONS = {
    "previous": PREVIOUS_HASH_FAULT,
    "purged_personal": PURGED_PERSONAL_FAULT,
    "personal": PERSONAL_DIGEST_FAULT,
    "content": CONTENT_HASH_FAULT,
    "chain": CHAIN_HASH_FAULT,
}
# Where in a record's checks each fault comes (ChainVerifier's order), to pick between a fault
# found in SQL and one found in Python on the same record.
RANK = {
    "sequence": 0,
    "previous": 1,
    "purged_personal": 2,
    "personal": 3,
    "content": 4,
    "chain": 5,
    "names_unpurged": 6,
}
_RANK_OF_REASON = {
    PURGED_PERSONAL_FAULT: RANK["purged_personal"],
    PERSONAL_DIGEST_FAULT: RANK["personal"],
    CONTENT_HASH_FAULT: RANK["content"],
}


def _positional(sql: str, names: Sequence[str]) -> str:
    for number, name in enumerate(names, start=1):
        sql = sql.replace(f":{name}", f"${number}")
    return sql


_SEGMENT_PARAMETERS = ("from_sequence", "to_sequence", "before_hash", "before")
SEGMENT_QUERY = _positional(SEGMENT_SQL, _SEGMENT_PARAMETERS)


@dataclass(frozen=True)
class _Fault:
    sequence: int
    rank: int
    id: uuid.UUID
    reason: str
    # How many records a record-by-record check reads up to and including this one, and the
    # chain hash of the record before it (the head of what is intact).
    position: int
    prior_hash: str


@dataclass
class _Segment:
    fault: _Fault | None
    # Purged records: id -> (sequence, chain hash before it); purges: (sequence, id, chain
    # hash before it, the ids it names).
    purged: dict[uuid.UUID, tuple[int, str]]
    purges: list[tuple[int, uuid.UUID, str, list[uuid.UUID]]]
    last_hash: str | None


async def _check_segment(
    connection: asyncpg.Connection, *, from_sequence: int, to_sequence: int
) -> _Segment:
    """Check the records with from_sequence < sequence <= to_sequence, the first of them
    against the record before it."""
    before = await connection.fetchrow(
        f"SELECT sequence, chain_hash FROM {LEDGER} WHERE sequence <= $1 "
        "ORDER BY sequence DESC LIMIT 1",
        from_sequence,
    )
    before_sequence, before_hash = (
        (before["sequence"], before["chain_hash"]) if before else (0, GENESIS_HASH)
    )
    rows = await connection.fetch(
        SEGMENT_QUERY, before_sequence, to_sequence, before_hash, before_sequence
    )
    segment = _Segment(fault=None, purged={}, purges=[], last_hash=None)
    for row in rows:
        prior_hash = row["prior_hash"] or before_hash
        fault = row["fault"]
        if fault is not None:
            prior_sequence = row["prior_sequence"] or before_sequence
            segment.fault = _Fault(
                sequence=row["sequence"],
                rank=RANK[fault],
                id=row["id"],
                reason=(
                    SEQUENCE_GAP.format(found=row["sequence"], expected=prior_sequence + 1)
                    if fault == "sequence"
                    else REASONS[fault]
                ),
                position=prior_sequence + 1,
                prior_hash=prior_hash,
            )
            # Nothing after the first broken record counts.
            break
        if row["purged"]:
            segment.purged[row["id"]] = (row["sequence"], prior_hash)
        if row["purged_record_ids"] is not None:
            segment.purges.append(
                (row["sequence"], row["id"], prior_hash, list(row["purged_record_ids"]))
            )
        if row["sequence"] == to_sequence:
            segment.last_hash = row["chain_hash"]
    return segment


async def _version_one_fault(connection: asyncpg.Connection, *, head: int) -> _Fault | None:
    """The first record in canonical form version 1 whose own content does not hold,
    recomputed in Python (chain.content_fault), read back V1_BATCH at a time."""
    after = 0
    while True:
        rows = await connection.fetch(
            f"SELECT * FROM {LEDGER} WHERE canonical_version = 1 AND sequence > $1 "
            "AND sequence <= $2 ORDER BY sequence LIMIT $3",
            after,
            head,
            V1_BATCH,
        )
        for row in rows:
            stored: dict[str, Any] = dict(row)
            for name in ("moderators", "retention_policy"):
                if stored[name] is not None:
                    stored[name] = json.loads(stored[name])
            reason = content_fault(stored)
            if reason is not None:
                return _Fault(
                    sequence=stored["sequence"],
                    rank=_RANK_OF_REASON[reason],
                    id=stored["id"],
                    reason=reason,
                    position=stored["sequence"],
                    prior_hash=stored["previous_hash"],
                )
        if len(rows) < V1_BATCH:
            return None
        after = rows[-1]["sequence"]


def segment_bounds(head: int, segments: int) -> list[tuple[int, int]]:
    """(from, to] ranges of sequence that cover 1..head in at most `segments` parts."""
    if head <= 0:
        return []
    size = -(-head // max(segments, 1))
    return [(start, min(start + size, head)) for start in range(0, head, size)]


async def verify_ledger_in_database(
    session: AsyncSession, *, segments: int = 4
) -> ChainVerification:
    """Verify the whole chain as ChainVerifier would, computed in PostgreSQL in `segments`
    parts checked at once on their own connections, over the snapshot of `session`'s
    transaction (kept open meanwhile)."""
    snapshot = await session.scalar(text("SELECT pg_export_snapshot()"))
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("verification needs a session bound to an AsyncEngine")
    url = to_plain_url(engine.url.render_as_string(hide_password=False))

    async def connect() -> asyncpg.Connection:
        connection = await asyncpg.connect(
            url, server_settings={"application_name": "registry-verify"}
        )
        await connection.execute(
            "SET statement_timeout = 0; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
            f"SET TRANSACTION SNAPSHOT '{snapshot}'"
        )
        return connection

    connections = [await connect()]
    try:
        head: int = await connections[0].fetchval(
            f"SELECT coalesce(max(sequence), 0) FROM {LEDGER}"
        )
        bounds = segment_bounds(head, segments)
        connections += [await connect() for _ in bounds]
        version_one_check = asyncio.ensure_future(_version_one_fault(connections[0], head=head))
        checked = list(
            await asyncio.gather(
                *(
                    _check_segment(connection, from_sequence=start, to_sequence=end)
                    for connection, (start, end) in zip(connections[1:], bounds, strict=True)
                )
            )
        )
        version_one = await version_one_check
    finally:
        for connection in connections:
            await connection.close()
    return conclude(checked, version_one=version_one, head=head)


def conclude(
    segments: list[_Segment], *, version_one: _Fault | None, head: int
) -> ChainVerification:
    """Join the segments: the first fault of all (and whether every purge names earlier
    purged records only), else whether every purged record was named."""
    candidates = [segment.fault for segment in segments if segment.fault is not None]
    if version_one is not None:
        candidates.append(version_one)
    purged: dict[uuid.UUID, tuple[int, str]] = {}
    for segment in segments:
        purged.update(segment.purged)
    named: set[uuid.UUID] = set()
    for segment in segments:
        for sequence, purge_id, prior_hash, names in segment.purges:
            for name in names:
                earlier = purged.get(name)
                if earlier is None or earlier[0] >= sequence:
                    candidates.append(
                        _Fault(
                            sequence=sequence,
                            rank=RANK["names_unpurged"],
                            id=purge_id,
                            reason=NAMES_UNPURGED_FAULT.format(named=name),
                            position=sequence,
                            prior_hash=prior_hash,
                        )
                    )
                    break
                named.add(name)
    if candidates:
        first = min(candidates, key=lambda fault: (fault.sequence, fault.rank))
        return ChainVerification(
            status="broken",
            records_checked=first.position,
            head_hash=first.prior_hash,
            first_broken=BrokenLink(sequence=first.sequence, id=first.id, reason=first.reason),
        )
    unnamed = sorted(
        (sequence, prior_hash, record_id)
        for record_id, (sequence, prior_hash) in purged.items()
        if record_id not in named
    )
    if unnamed:
        sequence, prior_hash, record_id = unnamed[0]
        return ChainVerification(
            status="broken",
            records_checked=head,
            head_hash=prior_hash,
            first_broken=BrokenLink(sequence=sequence, id=record_id, reason=UNNAMED_PURGE_FAULT),
        )
    last_hash = segments[-1].last_hash if segments else None
    return ChainVerification(
        status="intact",
        records_checked=head,
        head_hash=last_hash or GENESIS_HASH,
        first_broken=None,
    )
