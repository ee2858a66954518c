"""determination.recorded from review, through the outbox, the queue and registry's worker:
exactly one ledger record per determination, however often it is delivered."""

from __future__ import annotations

import uuid

import httpx
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.tasks import append_determination
from shared.db import unit_of_work
from shared.messages import DeterminationRecorded, Envelope
from shared.outbox import stage_message
from shared.queue import job_id
from shared.settings import ServiceSettings
from tests.factories import bearer, unique_code
from tests.registry.factories import determination, issue_reader
from tests.support import deliver_again, pump, run_worker


async def send_from_review(
    sessionmaker: async_sessionmaker[AsyncSession], payload: DeterminationRecorded
) -> Envelope:
    async with unit_of_work(sessionmaker) as session:
        return await stage_message(
            session, payload, producer="review", correlation_id=f"test-{uuid.uuid4().hex[:8]}"
        )


async def records_of_case(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[dict[str, object]]:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT id, record_kind, rules_cited FROM registry.ledger_record "
                    "WHERE case_id = :case_id"
                ),
                {"case_id": case_id},
            )
        ).mappings()
        return [dict(row) for row in rows]


async def announcements_of_case(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT destination, envelope->>'correlation_id' FROM registry.outbox_message "
                "WHERE message_type = 'record.created' "
                "AND envelope->'payload'->>'case_id' = :case_id ORDER BY destination"
            ),
            {"case_id": str(case_id)},
        )
        return [(row[0], row[1]) for row in rows]


async def test_a_violation_is_recorded_once_and_announced(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    payload = determination(department=department, rules_cited=["CR1964-22", "CR1964-18"])
    envelope = await send_from_review(sessionmaker, payload)

    await pump(sessionmaker, queue)

    records = await records_of_case(sessionmaker, payload.case_id)
    assert len(records) == 1
    assert records[0]["record_kind"] == "violation"
    assert records[0]["rules_cited"] == ["CR1964-22", "CR1964-18"]
    assert await announcements_of_case(sessionmaker, payload.case_id) == [
        ("intake", envelope.correlation_id),
        ("review", envelope.correlation_id),
    ]
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    listed = (await registry_api.get("/v1/violations", headers=auditor)).json()["items"]
    assert [item["case_id"] for item in listed] == [str(payload.case_id)]
    assert listed[0]["determined_by"] == str(payload.determined_by)
    assert listed[0]["countersigned_by"] == str(payload.countersigned_by)


async def test_a_cleared_finding_is_recorded_as_such(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = determination(finding="cleared", countersigned_by=None)
    await send_from_review(sessionmaker, payload)
    await pump(sessionmaker, queue)
    records = await records_of_case(sessionmaker, payload.case_id)
    assert [record["record_kind"] for record in records] == ["cleared_finding"]


async def test_the_same_envelope_delivered_again_leaves_one_record(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = determination(department=unique_code("DEPT"))
    envelope = await send_from_review(sessionmaker, payload)
    await pump(sessionmaker, queue)

    # As arq would after the first job's result expired: the same message, a new job id.
    await deliver_again(queue, envelope, to="registry", copies=2)
    assert await run_worker("registry", queue) == 2
    await pump(sessionmaker, queue)

    assert len(await records_of_case(sessionmaker, payload.case_id)) == 1
    assert len(await announcements_of_case(sessionmaker, payload.case_id)) == 2


async def test_the_same_determination_under_another_message_id_leaves_one_record(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = determination(department=unique_code("DEPT"))
    await send_from_review(sessionmaker, payload)
    await pump(sessionmaker, queue)
    # review staging the determination twice (a bug, or a replayed dead letter): the inbox
    # cannot tell, the ledger can.
    await send_from_review(sessionmaker, payload)
    await pump(sessionmaker, queue)

    assert len(await records_of_case(sessionmaker, payload.case_id)) == 1
    assert len(await announcements_of_case(sessionmaker, payload.case_id)) == 2


async def test_a_conflicting_determination_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = determination(department=unique_code("DEPT"))
    await send_from_review(sessionmaker, payload)
    await pump(sessionmaker, queue)
    conflicting = await send_from_review(
        sessionmaker, payload.model_copy(update={"finding": "cleared"})
    )
    await pump(sessionmaker, queue)

    records = await records_of_case(sessionmaker, payload.case_id)
    assert [record["record_kind"] for record in records] == ["violation"]
    async with sessionmaker() as session:
        dead = (
            await session.execute(
                text("SELECT error, attempts FROM registry.dead_letter WHERE job_id = :job_id"),
                {"job_id": job_id(ServiceSettings(), conflicting.message_id, "registry")},
            )
        ).one()
    assert dead.error.startswith("PoisonMessage") and "already has" in dead.error
    assert dead.attempts == 1


async def test_the_handler_called_twice_in_one_transaction_appends_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    payload = determination()
    envelope = Envelope.wrap(payload, producer="review", correlation_id="test-direct")
    async with unit_of_work(sessionmaker) as session:
        await append_determination(session, payload, envelope)
        await append_determination(session, payload, envelope)
    assert len(await records_of_case(sessionmaker, payload.case_id)) == 1
