"""Operating on the dead letters every service keeps: list them, and replay one.

A replay hands the stored envelope to the queue again under a new job id (arq would refuse
the old one while its failed result exists). The consumer's inbox still keys on the message
id, so a replay of a message that did in fact take effect changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.messages import Service
from shared.queue import queue_name
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class DeadLetterView:
    job_id: str
    message_type: str
    error: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None


class DeadLetterNotFound(LookupError):
    pass


class NotReplayable(ValueError):
    pass


async def list_dead_letters(
    session: AsyncSession, *, service: Service, include_replayed: bool = False, limit: int = 100
) -> list[DeadLetterView]:
    rows = await session.execute(
        text(
            f"SELECT job_id, message_type, error, attempts, failed_at, replayed_at "
            f"FROM {service}.dead_letter "
            + ("" if include_replayed else "WHERE replayed_at IS NULL ")
            + "ORDER BY failed_at LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [DeadLetterView(**row._mapping) for row in rows]


async def replay_dead_letter(
    session: AsyncSession,
    *,
    service: Service,
    job_id: str,
    redis: ArqRedis,
    settings: ServiceSettings,
) -> str:
    """Hand the dead letter's envelope to its queue again; returns the new job id."""
    row = (
        await session.execute(
            text(
                f"SELECT message_type, envelope FROM {service}.dead_letter "
                "WHERE job_id = :job_id FOR UPDATE"
            ),
            {"job_id": job_id},
        )
    ).first()
    if row is None:
        raise DeadLetterNotFound(job_id)
    envelope: dict[str, Any] | None = row.envelope
    if envelope is None:
        raise NotReplayable(f"{job_id} kept no envelope to replay")
    replay_id = f"{queue_name(settings, service)}:replay:{uuid.uuid4()}"
    await redis.enqueue_job(
        row.message_type, envelope, _job_id=replay_id, _queue_name=queue_name(settings, service)
    )
    await session.execute(
        text(f"UPDATE {service}.dead_letter SET replayed_at = now() WHERE job_id = :job_id"),
        {"job_id": job_id},
    )
    return replay_id
