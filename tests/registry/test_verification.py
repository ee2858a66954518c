"""Verification inside PostgreSQL (services/registry/ledger/verification.py) gives the answer
the record-by-record verifier gives (ChainVerifier, the reference), on a ledger of every kind
of record, in both canonical forms, with a retention purge, intact and tampered with in every
way the reference catches; and canonical form version 2 is byte for byte what PostgreSQL's
jsonb makes of the same values.

On a database of its own (scratch_database), so that edits made behind the ledger's back never
touch the run's shared ledger; the ledger is put back from a copy after each case."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.chain import (
    CANONICAL_VERSION,
    V2_FIELDS,
    V2_PERSONAL_FIELDS,
    ChainVerification,
    canonical_content_v2,
    personal_content_v2,
)
from services.registry.ledger.entries import RetentionPurgeEntry
from services.registry.ledger.service import append_records, verify_ledger
from services.registry.ledger.verification import (
    CONTENT_V2_SQL,
    PERSONAL_V2_SQL,
    segment_bounds,
    verify_ledger_in_database,
)
from shared.db import create_engine, create_sessionmaker, unit_of_work
from shared.migrations import upgrade
from shared.settings import ServiceSettings, to_plain_url
from tests.bench.ledger_volume import seed_ledger
from tests.stack import scratch_database

Sessionmaker = async_sessionmaker[AsyncSession]
VERSION_ONE_RECORDS = 120
VERSION_TWO_RECORDS = 280


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    with scratch_database("verification") as url:
        upgrade("registry", url)
        yield url


@dataclass
class Ledger:
    sessionmaker: Sessionmaker
    purged_id: uuid.UUID

    async def both(self, *, segments: int = 3) -> tuple[ChainVerification, ChainVerification]:
        """(the reference's answer, the database's answer)."""
        async with self.sessionmaker() as session:
            reference = await verify_ledger(session, batch_size=37)
        async with self.sessionmaker() as session:
            fast = await verify_ledger_in_database(session, segments=segments)
        return reference, fast

    async def behind_its_back(self, *statements: str) -> None:
        async with unit_of_work(self.sessionmaker) as session:
            await session.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                await session.execute(text(statement))

    async def record_at(self, sequence: int) -> dict[str, object]:
        async with self.sessionmaker() as session:
            row = (
                await session.execute(
                    text("SELECT * FROM registry.ledger_record WHERE sequence = :s"),
                    {"s": sequence},
                )
            ).mappings()
            return dict(row.one())

    async def first_of(self, condition: str) -> dict[str, object]:
        async with self.sessionmaker() as session:
            row = (
                await session.execute(
                    text(
                        f"SELECT * FROM registry.ledger_record WHERE {condition} "
                        "ORDER BY sequence LIMIT 1"
                    )
                )
            ).mappings()
            return dict(row.one())


@pytest.fixture(scope="module")
async def ledger(scratch_url: str) -> AsyncIterator[Ledger]:
    """Records of every kind in canonical form 1, then more in form 2, one of them purged by
    a retention purge; a copy of the table to restore from."""
    await seed_ledger(scratch_url, VERSION_ONE_RECORDS, seed=1, canonical_version=1)
    await seed_ledger(scratch_url, VERSION_TWO_RECORDS, seed=2)
    engine = create_engine(
        ServiceSettings.model_validate({"DATABASE_URL": scratch_url}), application_name="verify"
    )
    maker = create_sessionmaker(engine)
    async with maker() as session:
        purged = (
            (
                await session.execute(
                    text(
                        "SELECT id, case_id, submission_id, department FROM "
                        "registry.ledger_record WHERE record_kind = 'cleared_finding' AND "
                        f"sequence > {VERSION_ONE_RECORDS} ORDER BY sequence LIMIT 1"
                    )
                )
            )
            .mappings()
            .one()
        )
    async with unit_of_work(maker) as session:
        await session.execute(text("SELECT set_config('registry.retention_purge', 'on', true)"))
        await session.execute(
            text(
                "UPDATE registry.ledger_record SET employee_ref = NULL, employee_name = NULL, "
                "reasons = NULL, personal_salt = NULL WHERE id = :id"
            ),
            {"id": purged["id"]},
        )
        await session.execute(text("SELECT set_config('registry.retention_purge', 'off', true)"))
        await append_records(
            session,
            entries=[
                RetentionPurgeEntry(
                    case_id=purged["case_id"],
                    submission_id=purged["submission_id"],
                    department=purged["department"],
                    purged_record_ids=[purged["id"]],
                    retention_policy={"policy": "cleared_outcomes", "cleared_days": 30},
                    reasons="Personal data removed under the retention policy.",
                    effective_on=date(2026, 12, 1),
                    recorded_by_id=None,
                    recorded_by_label=None,
                )
            ],
        )
        await session.execute(
            text("CREATE TABLE public.ledger_copy AS SELECT * FROM registry.ledger_record")
        )
    yield Ledger(maker, purged["id"])
    await engine.dispose()


async def restore(ledger: Ledger) -> None:
    await ledger.behind_its_back(
        "DELETE FROM registry.ledger_record",
        "INSERT INTO registry.ledger_record SELECT * FROM public.ledger_copy",
    )


async def test_an_intact_ledger_of_both_forms_verifies_the_same_in_the_database(
    ledger: Ledger,
) -> None:
    for segments in (1, 3, 7):
        reference, fast = await ledger.both(segments=segments)
        assert reference.status == "intact", reference.first_broken
        assert fast == reference
    assert reference.records_checked == VERSION_ONE_RECORDS + VERSION_TWO_RECORDS + 1


# Each: what to do behind the ledger's back (a condition picks the record), and which.
TAMPERING: list[tuple[str, str, str]] = [
    (
        "a version 1 record's reasons",
        "canonical_version = 1 AND reasons IS NOT NULL",
        "reasons = reasons || '.'",
    ),
    (
        "a version 1 record's rules",
        "canonical_version = 1 AND rules_cited IS NOT NULL",
        "rules_cited = ARRAY['CR1964-18']",
    ),
    (
        "a version 2 record's reasons",
        "canonical_version = 2 AND reasons IS NOT NULL",
        "reasons = 'Nothing to see here.'",
    ),
    (
        "an official account's moderators",
        "canonical_version = 2 AND record_kind = 'official_account'",
        'moderators = \'[{"name": "Someone Else", "designation": "PRO", '
        '"employee_ref": "X-1"}]\'::jsonb',
    ),
    (
        "a version 2 record's rules",
        "canonical_version = 2 AND rules_cited IS NOT NULL",
        "rules_cited = rules_cited || ARRAY['CR1964-18']::varchar[]",
    ),
    (
        "a recording time by a microsecond",
        "canonical_version = 2",
        "recorded_at = recorded_at + interval '1 microsecond'",
    ),
    (
        "a sanction's penalty",
        "canonical_version = 2 AND penalty_code IS NOT NULL",
        "period_months = coalesce(period_months, 0) + 1",
    ),
    (
        "the purge's policy",
        "record_kind = 'retention_purge'",
        'retention_policy = \'{"policy": "cleared_outcomes", "cleared_days": 1}\'::jsonb',
    ),
    ("a record's canonical version", "canonical_version = 2", "canonical_version = 1"),
    ("a version 2 content hash", "canonical_version = 2", "content_hash = repeat('0', 64)"),
    ("a previous hash", "sequence = 200", "previous_hash = repeat('1', 64)"),
    (
        "personal data removed as if purged",
        "canonical_version = 2 AND record_kind = 'violation'",
        "employee_ref = NULL, employee_name = NULL, reasons = NULL, personal_salt = NULL",
    ),
    (
        "a purge naming a record never purged",
        "record_kind = 'retention_purge'",
        "purged_record_ids = purged_record_ids || gen_random_uuid()",
    ),
    ("the first record deleted", "sequence = 1", "DELETE"),
    ("a record in version 2 deleted", "sequence = 300", "DELETE"),
    ("the last record deleted", "record_kind = 'retention_purge'", "DELETE"),
]


@pytest.mark.parametrize(
    ("tried", "condition", "change"), TAMPERING, ids=[tried for tried, _, _ in TAMPERING]
)
async def test_a_tampered_ledger_is_named_the_same_in_the_database(
    ledger: Ledger, tried: str, condition: str, change: str
) -> None:
    record = await ledger.first_of(condition)
    statement = (
        f"DELETE FROM registry.ledger_record WHERE id = '{record['id']}'"
        if change == "DELETE"
        else f"UPDATE registry.ledger_record SET {change} WHERE id = '{record['id']}'"
    )
    await ledger.behind_its_back(statement)
    try:
        reference, fast = await ledger.both()
    finally:
        await restore(ledger)
    assert reference.status == "broken", tried
    assert fast == reference, tried


async def test_two_records_swapped_are_named_the_same_in_the_database(ledger: Ledger) -> None:
    a, b = await ledger.record_at(150), await ledger.record_at(151)
    await ledger.behind_its_back(
        f"UPDATE registry.ledger_record SET sequence = 1000000000 WHERE id = '{a['id']}'",
        f"UPDATE registry.ledger_record SET sequence = 150 WHERE id = '{b['id']}'",
        f"UPDATE registry.ledger_record SET sequence = 151 WHERE id = '{a['id']}'",
    )
    try:
        reference, fast = await ledger.both()
    finally:
        await restore(ledger)
    assert reference.first_broken is not None
    assert (reference.first_broken.sequence, reference.first_broken.id) == (150, b["id"])
    assert fast == reference


async def test_a_segment_boundary_on_a_missing_record_still_names_it(ledger: Ledger) -> None:
    """Cut in three, the chain's second segment begins right after the record deleted."""
    total = VERSION_ONE_RECORDS + VERSION_TWO_RECORDS + 1
    (_, cut), *_ = segment_bounds(total, 3)
    deleted = await ledger.record_at(cut)
    await ledger.behind_its_back(f"DELETE FROM registry.ledger_record WHERE sequence = {cut}")
    try:
        reference, fast = await ledger.both(segments=3)
    finally:
        await restore(ledger)
    assert reference.first_broken is not None and reference.first_broken.sequence == cut + 1
    assert deleted["sequence"] == cut
    assert fast == reference


def test_segments_cover_the_chain_once() -> None:
    for head in (0, 1, 2, 7, 10, 1_000_001):
        for segments in (1, 2, 3, 4, 16):
            bounds = segment_bounds(head, segments)
            covered = [s for start, end in bounds for s in range(start + 1, end + 1)]
            assert covered == list(range(1, head + 1))
            assert len(bounds) <= segments


TRICKY_TEXT = [
    'quote " backslash \\ slash /',
    "new\nline\ttab\rreturn\x08\x0c\x01\x1f\x7f",
    "Urdu: قواعد ضابطہ، emoji: \U0001f600, accents: é",
    "",
    "<script>&amp;</script>",
]


@pytest.mark.parametrize("value", TRICKY_TEXT)
async def test_version_two_is_what_postgresql_makes_of_the_same_values(
    scratch_url: str, value: str
) -> None:
    """Canonical form 2 written in Python (chain.py) is byte for byte what verify rebuilds in
    SQL from the stored columns: tricky text, arrays, a JSON object (keys as jsonb orders
    them), dates, timestamps to the microsecond, nulls."""
    record: dict[str, Any] = {
        **dict.fromkeys(V2_FIELDS),
        **dict.fromkeys(V2_PERSONAL_FIELDS),
        "canonical_version": CANONICAL_VERSION,
        "id": uuid.UUID(int=5),
        "sequence": 2**40,
        "record_kind": "official_account",
        "case_id": uuid.uuid4(),
        "submission_id": uuid.uuid4(),
        "department": value[:60],
        "reasons": value,
        "account_handle": value,
        "rules_cited": [value, "CR1964-22"],
        "conditions": [],
        "recorded_at": datetime(2026, 11, 23, 8, 0, 1, 7, tzinfo=UTC),
        "decided_at": datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "effective_on": date(2026, 11, 20),
        "catalogue_version": 1,
        "moderators": [{"name": value, "designation": "PRO", "employee_ref": "E-1", "z": ""}],
        "retention_policy": {"policy": value, "cleared_days": 30, "on": True, "none": None},
        "purged_record_ids": [uuid.UUID(int=7)],
        "personal_salt": "ab" * 16,
        "personal_digest": "cd" * 32,
    }
    columns = sorted(set(V2_FIELDS) | set(V2_PERSONAL_FIELDS))
    connection = await asyncpg.connect(to_plain_url(scratch_url))
    try:
        await connection.execute(
            "CREATE TEMP TABLE r AS SELECT * FROM registry.ledger_record WITH NO DATA"
        )
        await connection.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        await connection.execute(
            f"INSERT INTO r ({', '.join(columns)}) VALUES "
            f"({', '.join(f'${n}' for n in range(1, len(columns) + 1))})",
            *(record[name] for name in columns),
        )
        content, personal = await connection.fetchrow(
            f"SELECT {CONTENT_V2_SQL}, {PERSONAL_V2_SQL} FROM r"
        )
    finally:
        await connection.close()
    assert content.encode() == canonical_content_v2(record)
    assert personal.encode() == personal_content_v2(record)
