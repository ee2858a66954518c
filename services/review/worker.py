"""review's arq worker: opens and assigns cases from reports and MTI violator-list rows,
follows registry's records, runs the sweeps every minute (waiting cases, reply windows, stage
deadlines), and relays review's outbox (status changes, determinations)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine

from services.review.cases.tasks import (
    on_record_created,
    on_report_received,
    sweep_deadlines,
    sweep_settled_cases,
    sweep_waiting_cases,
)
from services.review.catalogue.tasks import on_rules_catalogue_published
from services.review.institutional_findings.tasks import on_violator_list_entry_received
from services.review.notices.tasks import (
    on_notice_receipt_acknowledged,
    on_notice_reply_submitted,
)
from services.review.permissions.tasks import on_permission_requested, send_renewal_reminders
from services.review.settings import get_settings
from services.review.triage.tasks import (
    on_permission_check_requested,
    recheck_unanswered_permission_checks,
)
from shared.worker import worker_settings

settings = get_settings()


def every_minute(job: Callable[[dict[str, Any]], Awaitable[object]], *, second: int) -> CronJob:
    # The sweeps are safe to overlap, so several workers running them is harmless.
    # arq's protocol also admits extra arguments, which a cron job is never given.
    return cron(cast(WorkerCoroutine, job), second=second)


WorkerSettings = worker_settings(
    service="review",
    settings=settings,
    handlers=[
        on_report_received,
        on_record_created,
        on_rules_catalogue_published,
        on_violator_list_entry_received,
        on_permission_requested,
        on_permission_check_requested,
        on_notice_receipt_acknowledged,
        on_notice_reply_submitted,
    ],
    cron_jobs=[
        every_minute(sweep_waiting_cases, second=0),
        every_minute(sweep_deadlines, second=30),
        every_minute(recheck_unanswered_permission_checks, second=45),
        # Reminders are by the day: once an hour is prompt enough.
        cron(cast(WorkerCoroutine, send_renewal_reminders), minute=15, second=15),
        # Appeal windows are counted in days: once an hour closes a settled case promptly.
        cron(cast(WorkerCoroutine, sweep_settled_cases), minute=45, second=45),
    ],
)
