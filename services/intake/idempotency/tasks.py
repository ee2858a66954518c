"""Pruning expired Idempotency-Key answers, a cron job of intake's worker.

Expired keys are already ignored by requests; pruning only keeps the table at about a day of
traffic. arq runs a cron job once per tick across all worker replicas.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from arq.cron import CronJob, cron

from services.intake.base import SCHEMA
from shared.consumer import WorkerResources
from shared.db import unit_of_work
from shared.idempotency import prune_expired_keys

logger = structlog.get_logger(__name__)

PRUNE_BATCH = 5000
# Each run stops starting batches after this long, well inside the job timeout every job of the
# worker shares: a long job would hold back the rerun of any job a killed worker left (arq keeps
# a job "in progress" for the longest function timeout + 10 s). A backlog drains over runs.
PRUNE_BUDGET_SECONDS = 10.0


async def prune_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Delete expired keys in batches, one short transaction each, for at most
    PRUNE_BUDGET_SECONDS; returns how many."""
    resources: WorkerResources = ctx["resources"]
    pruned = 0
    stop_at = time.monotonic() + PRUNE_BUDGET_SECONDS
    while time.monotonic() < stop_at:
        async with unit_of_work(resources.sessionmaker) as session:
            deleted = await prune_expired_keys(session, schema=SCHEMA, batch=PRUNE_BATCH)
        pruned += deleted
        if deleted < PRUNE_BATCH:
            break
    if pruned:
        logger.info("expired idempotency keys pruned", count=pruned)
    return pruned


prune_idempotency_keys_cron: CronJob = cron(
    prune_idempotency_keys,
    minute={7, 22, 37, 52},
    run_at_startup=False,
)
