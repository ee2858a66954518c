"""review's FastAPI application: where a monitoring unit works its cases."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.appeals.router import router as appeals_router
from services.review.cases.metrics import refresh_case_gauges
from services.review.cases.router import router as cases_router
from services.review.charges.router import router as charges_router
from services.review.institutional_findings.router import router as institutional_findings_router
from services.review.meetings.router import router as meetings_router
from services.review.notices.router import router as notices_router
from services.review.permissions.router import router as permissions_router
from services.review.screening.router import router as screening_router
from services.review.settings import get_settings
from services.review.units.router import router as units_router
from shared.catalogue_replica import rules_replica_loaded
from shared.http import create_service_app


async def rules_replica_ready(session: AsyncSession) -> bool:
    return await rules_replica_loaded(session, service="review")


def create_app() -> FastAPI:
    return create_service_app(
        service="review",
        title="Conduct review",
        description=(
            "Monitoring units work their cases here: notice, reply, hearing, determination and "
            "the chair's countersignature, each step gated and on the record; chairs manage "
            "their unit's members."
        ),
        settings=get_settings(),
        readiness_checks={"rules catalogue": rules_replica_ready},
        routers=[
            cases_router,
            charges_router,
            institutional_findings_router,
            permissions_router,
            units_router,
            appeals_router,
            meetings_router,
            screening_router,
            notices_router,
        ],
        state_gauges={"cases": refresh_case_gauges},
    )
