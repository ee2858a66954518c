"""The ledger itself: appends keep one gap-free linear chain under concurrency, the database
refuses to change a record, and verification names the first record changed behind its back."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.chain import GENESIS_HASH
from services.registry.ledger.errors import RecordAlreadyExists
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import append_record, verify_ledger
from shared.db import unit_of_work
from tests.factories import bearer, unique_code
from tests.registry.factories import append_entry, issue_reader, record_entry

APPEND_ONLY_TRIGGER = "ledger_record_append_only"
COPIED = (
    "id, sequence, record_kind, supersedes_id, case_id, submission_id, department, "
    "employee_ref, employee_name, rules_cited, platform, reasons, determined_by, "
    "countersigned_by, effective_on, recorded_at, reported_at, catalogue_version, "
    "personal_salt, personal_digest, content_hash, previous_hash, chain_hash"
)


async def chain_shape(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT count(*), min(sequence), max(sequence) FROM registry.ledger_record")
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def test_appended_records_link_to_their_predecessor(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = await append_entry(sessionmaker)
    second = await append_entry(sessionmaker)
    assert second.sequence == first.sequence + 1
    assert second.previous_hash == first.chain_hash
    assert first.catalogue_version == 1
    async with sessionmaker() as session:
        genesis = await session.scalar(
            text("SELECT previous_hash FROM registry.ledger_record WHERE sequence = 1")
        )
    assert genesis == GENESIS_HASH


async def test_concurrent_appends_keep_one_gap_free_linear_chain(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department = unique_code("DEPT")

    async def append_one() -> LedgerRecord:
        async with unit_of_work(sessionmaker) as session:
            return await append_record(session, entry=record_entry(department=department))

    records = await asyncio.gather(*(append_one() for _ in range(20)))

    sequences = sorted(record.sequence for record in records)
    assert sequences == list(range(sequences[0], sequences[0] + 20))
    by_sequence = {record.sequence: record for record in records}
    for sequence in sequences[1:]:
        assert by_sequence[sequence].previous_hash == by_sequence[sequence - 1].chain_hash
    count, lowest, highest = await chain_shape(sessionmaker)
    assert (lowest, highest) == (1, count)
    async with sessionmaker() as session:
        verification = await verify_ledger(session, batch_size=7)
    assert verification.status == "intact", verification.first_broken
    assert verification.records_checked == count


async def test_a_second_original_record_for_a_case_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    record = await append_entry(sessionmaker)
    with pytest.raises(RecordAlreadyExists):
        await append_entry(sessionmaker, case_id=record.case_id)
    # The database refuses it too, should anything bypass the service.
    async with sessionmaker() as session:
        with pytest.raises(DBAPIError, match="uq_ledger_record_case_id_record_kind"):
            await session.execute(
                text(
                    f"INSERT INTO registry.ledger_record ({COPIED}) SELECT :id, :sequence, "
                    f"{COPIED.split(', ', 2)[2]} FROM registry.ledger_record WHERE id = :original"
                ),
                {"id": uuid.uuid4(), "sequence": 10**12, "original": record.id},
            )
        await session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE registry.ledger_record SET reasons = 'rewritten' WHERE id = :id",
        "DELETE FROM registry.ledger_record WHERE id = :id",
        "TRUNCATE registry.ledger_record",
    ],
    ids=["update", "delete", "truncate"],
)
async def test_the_database_refuses_to_change_a_record(
    sessionmaker: async_sessionmaker[AsyncSession], statement: str
) -> None:
    record = await append_entry(sessionmaker)
    async with sessionmaker() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement), {"id": record.id})
        await session.rollback()
        reasons = await session.scalar(
            text("SELECT reasons FROM registry.ledger_record WHERE id = :id"), {"id": record.id}
        )
    assert reasons == record.reasons


async def test_verify_says_intact_after_appends(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for _ in range(3):
        head = await append_entry(sessionmaker)
    auditor = bearer(await issue_reader(sessionmaker))
    response = await registry_api.get("/v1/audit/verify", headers=auditor)
    assert response.status_code == 200, response.text
    count, _, _ = await chain_shape(sessionmaker)
    verification = response.json()
    # Other tests of the run may have signed a checkpoint; if so, it must hold.
    checkpoint = verification.pop("checkpoint")
    assert checkpoint is None or checkpoint["holds"] is True
    assert verification == {
        "status": "intact",
        "records_checked": count,
        "head_hash": head.chain_hash,
        "first_broken": None,
    }


async def set_reasons_behind_the_ledgers_back(
    sessionmaker: async_sessionmaker[AsyncSession], *, record_id: uuid.UUID, reasons: str
) -> None:
    """What someone with the superuser's password could do: switch the trigger off."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(f"ALTER TABLE registry.ledger_record DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        )
        await session.execute(
            text("UPDATE registry.ledger_record SET reasons = :reasons WHERE id = :id"),
            {"reasons": reasons, "id": record_id},
        )
        await session.execute(
            text(f"ALTER TABLE registry.ledger_record ENABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        )


async def test_verify_names_a_record_tampered_with_the_trigger_disabled(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    tampered = await append_entry(sessionmaker)
    await append_entry(sessionmaker)
    auditor = bearer(await issue_reader(sessionmaker))
    await set_reasons_behind_the_ledgers_back(
        sessionmaker, record_id=tampered.id, reasons="Nothing to see here."
    )
    try:
        verification = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
        assert verification["status"] == "broken"
        assert verification["first_broken"]["id"] == str(tampered.id)
        assert verification["first_broken"]["sequence"] == tampered.sequence
        assert "content" in verification["first_broken"]["reason"]
        assert verification["records_checked"] == tampered.sequence
    finally:
        # The run's database is shared by every test: put the record back as it was.
        await set_reasons_behind_the_ledgers_back(
            sessionmaker, record_id=tampered.id, reasons=tampered.reasons
        )
    restored = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
    assert restored["status"] == "intact"
