"""The daily retention run: an arq cron job on registry's worker applying the configured
policy to every department."""

from __future__ import annotations

from typing import Any

import structlog
from arq.cron import CronJob, cron

from services.registry.retention.service import (
    SCHEDULED_LABEL,
    RetentionPolicy,
    apply_retention,
)
from services.registry.retention.settings import get_retention_settings
from shared.consumer import WorkerResources
from shared.db import unit_of_work, utcnow

logger = structlog.get_logger(__name__)


async def apply_retention_policy(ctx: dict[str, Any]) -> str:
    resources: WorkerResources = ctx["resources"]
    policy = RetentionPolicy(cleared_days=get_retention_settings().cleared_days)
    async with unit_of_work(resources.sessionmaker) as session:
        run = await apply_retention(
            session,
            policy=policy,
            today=utcnow().date(),
            department_scope=None,
            expected_digest=None,
            recorded_by_id=None,
            recorded_by_label=SCHEDULED_LABEL,
        )
    logger.info(
        "retention applied",
        run_id=str(run.run_id),
        cases=len(run.preview.cases),
        records=run.preview.record_count,
    )
    return f"purged {run.preview.record_count} records of {len(run.preview.cases)} cases"


def retention_schedule() -> CronJob:
    """Once a day at REGISTRY_RETENTION_RUN_AT_HOUR (UTC); arq runs it once across workers
    per scheduled time, and a second run the same day finds nothing left to purge."""
    return cron(apply_retention_policy, hour={get_retention_settings().run_at_hour}, minute={17})
