"""registry's FastAPI application: the authoritative ledger, read by auditors, competent
authorities and dashboards; over HTTP only competent authorities write to it (sanctions)."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.catalogue.router import router as catalogue_router
from services.registry.employees.router import router as employees_router
from services.registry.ledger.metrics import refresh_ledger_gauge
from services.registry.ledger.router import audit_router, violations_router
from services.registry.permissions.router import official_accounts_router, permissions_router
from services.registry.retention.router import router as retention_router
from services.registry.sanctions.router import router as sanctions_router
from services.registry.settings import get_settings
from services.registry.statistics.router import router as statistics_router
from shared.http import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        service="registry",
        title="Conduct registry",
        description=(
            "The append-only, hash-chained ledger of violations, cleared findings, sanctions, "
            "permissions and official accounts, queryable as it stood at any moment; the rules and penalties catalogues; "
            "verification of the chain for auditors."
        ),
        settings=get_settings(),
        routers=[
            catalogue_router,
            violations_router,
            sanctions_router,
            permissions_router,
            official_accounts_router,
            audit_router,
            statistics_router,
            employees_router,
            retention_router,
        ],
        state_gauges={"ledger": refresh_ledger_gauge},
    )
