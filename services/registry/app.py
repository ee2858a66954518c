"""registry's FastAPI application: the authoritative ledger, read by auditors, competent
authorities and dashboards; nothing is written to it over HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.catalogue.router import router as catalogue_router
from services.registry.ledger.router import audit_router, violations_router
from services.registry.settings import get_settings
from shared.http import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        service="registry",
        title="Conduct registry",
        description=(
            "The append-only, hash-chained ledger of violations and cleared findings; the rules "
            "catalogue; verification of the chain for auditors."
        ),
        settings=get_settings(),
        routers=[catalogue_router, violations_router, audit_router],
    )
