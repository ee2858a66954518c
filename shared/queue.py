"""How messages ride on arq: queue names, JSON serialisation, job ids, and the Redis pool.

arq delivers at least once, reruns a killed job only after its in-progress key expires, and
deduplicates a job id only while the job or its result exists. So job ids are derived from
message ids (a resend while the first copy is queued is a no-op) and every consumer also keeps
an inbox of message ids (a resend after that is a no-op too).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool

from shared.messages import Service
from shared.settings import ServiceSettings

# Results are how the relay learns a message was taken; keep them well past the resend window.
RESULT_RETENTION_SECONDS = 86_400


def queue_name(settings: ServiceSettings, service: Service) -> str:
    return f"{settings.queue_prefix}:{service}"


def job_id(settings: ServiceSettings, message_id: uuid.UUID, destination: Service) -> str:
    """arq's job and result keys are global to the Redis database, so the id carries the queue
    namespace: two stacks (or test runs) sharing a Redis never mistake each other's jobs."""
    return f"{queue_name(settings, destination)}:{message_id}"


def serialize_job(job: dict[str, Any]) -> bytes:
    return json.dumps(job, separators=(",", ":"), default=str).encode()


def deserialize_job(raw: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


def redis_settings(settings: ServiceSettings) -> RedisSettings:
    redis = RedisSettings.from_dsn(settings.redis_url)
    redis.conn_timeout = 5
    redis.conn_retries = 3
    return redis


async def create_queue_pool(settings: ServiceSettings) -> ArqRedis:
    return await create_pool(
        redis_settings(settings),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
