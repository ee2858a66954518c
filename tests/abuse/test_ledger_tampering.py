"""S9: a superuser goes behind the ledger's back (its append-only trigger silenced with
session_replication_role = replica, as anyone with the superuser's password can) and edits,
deletes, reorders or truncates records. GET /v1/audit/verify says "broken" every time and
names the first record that no longer follows; a truncated tail, after which every remaining
hash still links up, is caught against the last signed checkpoint.

On a database of its own (scratch_database, registry migrated), so the run's shared ledger is
never touched; the ledger is put back from a copy after each case. Only the public behaviour
is checked (the verify endpoint's answer), not how the hashes are computed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.app import create_app
from services.registry.checkpoints.service import take_checkpoint
from services.registry.ledger.models import LedgerRecord
from services.registry.settings import RegistrySettings
from shared.db import create_engine, create_sessionmaker, unit_of_work
from shared.http import get_session
from shared.migrations import upgrade
from shared.settings import ServiceSettings
from tests.factories import bearer
from tests.registry.factories import append_entry, issue_reader
from tests.stack import scratch_database

Sessionmaker = async_sessionmaker[AsyncSession]
RECORDS = 6


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    with scratch_database("tampering") as url:
        upgrade("registry", url)
        yield url


@dataclass
class Ledger:
    sessionmaker: Sessionmaker
    api: httpx.AsyncClient
    auditor: dict[str, str]
    records: list[LedgerRecord]

    async def verify(self) -> dict[str, object]:
        answer = await self.api.get("/v1/audit/verify", headers=self.auditor)
        assert answer.status_code == 200, answer.text
        verification: dict[str, object] = answer.json()
        return verification

    async def behind_its_back(self, *statements: str) -> None:
        """Run statements as the superuser with the ledger's triggers silenced."""
        async with unit_of_work(self.sessionmaker) as session:
            await session.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                await session.execute(text(statement))


@pytest.fixture(scope="module")
async def ledger(scratch_url: str) -> AsyncIterator[Ledger]:
    """Six records and a checkpoint signed at the sixth; a copy of them to restore from."""
    engine = create_engine(
        ServiceSettings.model_validate({"DATABASE_URL": scratch_url}), application_name="s9"
    )
    maker = create_sessionmaker(engine)
    records = [await append_entry(maker) for _ in range(RECORDS)]
    async with unit_of_work(maker) as session:
        assert await take_checkpoint(session, settings=RegistrySettings()) is not None
        await session.execute(
            text("CREATE TABLE public.ledger_copy AS SELECT * FROM registry.ledger_record")
        )

    async def scratch_session() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    app = create_app()
    app.dependency_overrides[get_session] = scratch_session
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            yield Ledger(maker, api, bearer(await issue_reader(maker)), records)
    await engine.dispose()


async def restore(ledger: Ledger) -> None:
    await ledger.behind_its_back(
        "DELETE FROM registry.ledger_record",
        "INSERT INTO registry.ledger_record SELECT * FROM public.ledger_copy",
    )


# A way of tampering: does it, and answers the (sequence, id) verify must name.
Tamper = Callable[["Ledger"], Awaitable[tuple[int, str]]]


def edit(position: int) -> Tamper:
    async def tamper(ledger: Ledger) -> tuple[int, str]:
        record = ledger.records[position]
        await ledger.behind_its_back(
            "UPDATE registry.ledger_record SET reasons = 'Nothing to see here.' "
            f"WHERE id = '{record.id}'"
        )
        return record.sequence, str(record.id)

    return tamper


def delete(position: int) -> Tamper:
    async def tamper(ledger: Ledger) -> tuple[int, str]:
        await ledger.behind_its_back(
            f"DELETE FROM registry.ledger_record WHERE id = '{ledger.records[position].id}'"
        )
        # The record after the gap is the first that no longer follows.
        after = ledger.records[position + 1]
        return after.sequence, str(after.id)

    return tamper


def swap(first: int, second: int) -> Tamper:
    """Two records trade places in the order (their sequence numbers swapped): the one moved
    forward is named, at its new place."""

    async def tamper(ledger: Ledger) -> tuple[int, str]:
        a, b = ledger.records[first], ledger.records[second]
        await ledger.behind_its_back(
            f"UPDATE registry.ledger_record SET sequence = 1000000000 WHERE id = '{a.id}'",
            f"UPDATE registry.ledger_record SET sequence = {a.sequence} WHERE id = '{b.id}'",
            f"UPDATE registry.ledger_record SET sequence = {b.sequence} WHERE id = '{a.id}'",
        )
        return a.sequence, str(b.id)

    return tamper


TAMPERING: list[tuple[str, Tamper]] = [
    ("edit the first record", edit(0)),
    ("edit a record in the middle", edit(2)),
    ("edit the newest record", edit(RECORDS - 1)),
    ("delete the first record", delete(0)),
    ("delete a record in the middle", delete(2)),
    ("reorder two neighbours", swap(2, 3)),
    ("reorder the first and the last", swap(0, RECORDS - 1)),
]


@pytest.mark.parametrize(("tried", "tamper"), TAMPERING, ids=[t[0] for t in TAMPERING])
async def test_verify_names_the_first_record_that_no_longer_follows(
    ledger: Ledger, tried: str, tamper: Tamper
) -> None:
    assert (await ledger.verify())["status"] == "intact"
    sequence, record_id = await tamper(ledger)
    try:
        verification = await ledger.verify()
    finally:
        await restore(ledger)
    assert verification["status"] == "broken", tried
    first_broken = verification["first_broken"]
    assert isinstance(first_broken, dict), verification
    assert (first_broken["sequence"], first_broken["id"]) == (sequence, record_id), tried
    assert (await ledger.verify())["status"] == "intact"


@pytest.mark.parametrize(
    ("tried", "kept"), [("truncate the newest two", RECORDS - 2), ("truncate everything", 0)]
)
async def test_a_truncated_tail_is_caught_against_the_last_checkpoint(
    ledger: Ledger, tried: str, kept: int
) -> None:
    """Every remaining hash still links up: only the checkpoint signed at the old head can
    tell that records are gone."""
    assert (await ledger.verify())["status"] == "intact"
    await ledger.behind_its_back(
        f"DELETE FROM registry.ledger_record WHERE sequence > "
        f"{ledger.records[kept - 1].sequence if kept else 0}"
    )
    try:
        verification = await ledger.verify()
    finally:
        await restore(ledger)
    assert verification["status"] == "broken", tried
    assert verification["first_broken"] is None, "the remaining records still chain"
    assert verification["records_checked"] == kept
    checkpoint = verification["checkpoint"]
    assert isinstance(checkpoint, dict)
    assert checkpoint["holds"] is False
    assert checkpoint["head_sequence"] == ledger.records[-1].sequence
    assert (await ledger.verify())["status"] == "intact"
