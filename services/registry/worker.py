"""registry's arq worker: appends review's final determinations, permission decisions and
appeal outcomes to the ledger, and relays registry's outbox (record.created,
catalogue.rules_published); signs ledger checkpoints on a schedule and applies the retention policy daily."""

from __future__ import annotations

from services.registry.appeals.tasks import on_appeal_decided
from services.registry.checkpoints.tasks import checkpoint_schedule
from services.registry.ledger.tasks import on_determination_recorded
from services.registry.permissions.tasks import on_permission_decided
from services.registry.retention.tasks import retention_schedule
from services.registry.settings import get_settings
from shared.worker import worker_settings

WorkerSettings = worker_settings(
    service="registry",
    settings=get_settings(),
    handlers=[on_determination_recorded, on_permission_decided, on_appeal_decided],
    cron_jobs=[checkpoint_schedule(), retention_schedule()],
)
