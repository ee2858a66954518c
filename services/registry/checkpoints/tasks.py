"""The scheduled checkpoint: an arq cron job on registry's worker."""

from __future__ import annotations

from typing import Any

from arq.cron import CronJob, cron

from services.registry.checkpoints.service import take_checkpoint
from services.registry.settings import get_settings
from shared.consumer import WorkerResources
from shared.db import unit_of_work


async def sign_ledger_checkpoint(ctx: dict[str, Any]) -> str:
    resources: WorkerResources = ctx["resources"]
    async with unit_of_work(resources.sessionmaker) as session:
        checkpoint = await take_checkpoint(session, settings=get_settings())
    return f"checkpoint at {checkpoint.head_sequence}" if checkpoint else "nothing new to sign"


def checkpoint_schedule() -> CronJob:
    """The cron job, built when the worker starts: a production worker without a signing key
    refuses to start rather than sign with the development key."""
    settings = get_settings()
    settings.require_signing_key()
    every = settings.checkpoint_every_minutes
    # arq runs a cron job once across all workers per scheduled time (its job id is the time),
    # and take_checkpoint is idempotent per head besides.
    return cron(sign_ledger_checkpoint, minute=set(range(0, 60, every)), run_at_startup=True)
