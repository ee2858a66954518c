"""intake's FastAPI application: everything external callers send comes through here."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.reports.router import router as reports_router
from services.intake.settings import get_settings
from services.intake.violator_lists.router import PATH as VIOLATOR_LISTS_PATH
from services.intake.violator_lists.router import router as violator_lists_router
from shared.catalogue_replica import rules_replica_loaded
from shared.http import create_service_app


async def rules_replica_ready(session: AsyncSession) -> bool:
    return await rules_replica_loaded(session, service="intake")


def create_app() -> FastAPI:
    settings = get_settings()
    return create_service_app(
        service="intake",
        title="Conduct intake",
        description=(
            "Accepts reports from departmental portals, permission requests and MTI violator "
            "lists; answers 202 with an id and keeps the status callers poll."
        ),
        settings=settings,
        readiness_checks={"rules catalogue": rules_replica_ready},
        routers=[reports_router, violator_lists_router],
        # A 100,000-row violator list is tens of MB; every other route keeps the small cap.
        body_limits={VIOLATOR_LISTS_PATH: settings.violator_list_max_bytes},
    )
