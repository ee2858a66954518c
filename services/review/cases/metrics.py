"""review's gauges for Prometheus, read at each scrape (shared.metrics): cases escalated to a
chair for sitting past their stage's deadline, and cases waiting for an eligible member."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case, CaseEscalation

CASES_OVERDUE = Gauge(
    "conduct_cases_overdue",
    "Cases escalated to their unit's chair and still in the state they were escalated in.",
    multiprocess_mode="mostrecent",
)
CASES_WAITING = Gauge(
    "conduct_cases_waiting",
    "Cases waiting in a unit's queue for an eligible member.",
    multiprocess_mode="mostrecent",
)


async def refresh_case_gauges(session: AsyncSession) -> None:
    overdue = await session.scalar(
        select(func.count())
        .select_from(CaseEscalation)
        .join(Case, (Case.id == CaseEscalation.case_id) & (Case.state == CaseEscalation.state))
    )
    CASES_OVERDUE.set(overdue or 0)
    waiting = await session.scalar(
        select(func.count()).select_from(Case).where(Case.state == CaseState.RECEIVED)
    )
    CASES_WAITING.set(waiting or 0)
