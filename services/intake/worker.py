"""intake's arq worker: status events from review and registry, catalogue updates, the
per-entry messages of stored violator-list slices, the outbox relay for report.received, and
the pruning of expired idempotency keys."""

from __future__ import annotations

from services.intake.catalogue.tasks import on_rules_catalogue_published
from services.intake.idempotency.tasks import prune_idempotency_keys_cron
from services.intake.notices.tasks import on_notice_served, on_notice_updated
from services.intake.settings import get_settings
from services.intake.submissions.tasks import on_case_status_changed, on_record_created
from services.intake.violator_lists.storing import on_entries_stored
from services.intake.webhooks.delivery import deliver_webhooks_cron
from shared.worker import worker_settings

WorkerSettings = worker_settings(
    service="intake",
    settings=get_settings(),
    handlers=[
        on_case_status_changed,
        on_record_created,
        on_rules_catalogue_published,
        on_notice_served,
        on_notice_updated,
        on_entries_stored,
    ],
    cron_jobs=[prune_idempotency_keys_cron, deliver_webhooks_cron],
)
