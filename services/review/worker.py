"""review's arq worker: opens and assigns cases from reports, follows registry's records, and
relays review's outbox (status changes, determinations)."""

from __future__ import annotations

from services.review.cases.tasks import on_record_created, on_report_received
from services.review.catalogue.tasks import on_rules_catalogue_published
from services.review.settings import get_settings
from shared.worker import worker_settings

WorkerSettings = worker_settings(
    service="review",
    settings=get_settings(),
    handlers=[on_report_received, on_record_created, on_rules_catalogue_published],
)
