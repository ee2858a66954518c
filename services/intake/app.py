"""intake's FastAPI application: everything external callers send comes through here."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.evidence.router import UPLOAD_PATH
from services.intake.evidence.router import router as evidence_router
from services.intake.notices.router import router as notices_router
from services.intake.permissions.router import router as permissions_router
from services.intake.reports.router import router as reports_router
from services.intake.settings import get_settings
from services.intake.violator_lists.router import PATH as VIOLATOR_LISTS_PATH
from services.intake.violator_lists.router import router as violator_lists_router
from services.intake.webhooks.router import router as webhooks_router
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
        routers=[
            reports_router,
            evidence_router,
            permissions_router,
            violator_lists_router,
            webhooks_router,
            notices_router,
        ],
        # Snapshot uploads and 100,000-row violator lists take large bodies; every other route
        # keeps MAX_REQUEST_BYTES.
        body_limits_by_path={
            UPLOAD_PATH: settings.evidence_max_bytes,
            VIOLATOR_LISTS_PATH: settings.violator_list_max_bytes,
        },
    )
