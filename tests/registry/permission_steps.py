"""Steps the permission tests share: review deciding a permission request (its message sent
through the outbox, the queue and registry's worker), and what the ledger then holds."""

from __future__ import annotations

import uuid

from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work
from shared.messages import Envelope, PermissionDecided
from shared.outbox import stage_message
from tests.support import pump


async def send_decision(
    sessionmaker: async_sessionmaker[AsyncSession], payload: PermissionDecided
) -> Envelope:
    async with unit_of_work(sessionmaker) as session:
        return await stage_message(
            session, payload, producer="review", correlation_id=f"test-{uuid.uuid4().hex[:8]}"
        )


async def decide(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, payload: PermissionDecided
) -> Envelope:
    """review decides, and every message moves on until the system is quiet."""
    envelope = await send_decision(sessionmaker, payload)
    await pump(sessionmaker, queue)
    return envelope


async def records_of_case(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[dict[str, object]]:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT id, record_kind, decision, supersedes_id, renewal_of "
                    "FROM registry.ledger_record WHERE case_id = :case_id ORDER BY sequence"
                ),
                {"case_id": case_id},
            )
        ).mappings()
        return [dict(row) for row in rows]
