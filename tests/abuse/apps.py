"""Each service's app for abuse tests, with its own settings and client address, and the
routes its OpenAPI document declares (the list every sweep walks, so a new route is swept
without anyone adding it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from services.intake.app import create_app as create_intake_app
from services.intake.settings import IntakeSettings
from services.intake.settings import current_settings as intake_settings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings
from services.registry.settings import current_settings as registry_settings
from services.review.app import create_app as create_review_app
from services.review.settings import ReviewSettings
from services.review.settings import current_settings as review_settings
from shared.messages import SERVICES, Service
from tests.intake.support import client_of, unique_address

# Routes anybody may call: probes, and metrics (not in OpenAPI, but named for completeness).
UNAUTHENTICATED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

APPS: dict[Service, tuple[Callable[[], FastAPI], Callable[[], Any], type]] = {
    "intake": (create_intake_app, intake_settings, IntakeSettings),
    "review": (create_review_app, review_settings, ReviewSettings),
    "registry": (create_registry_app, registry_settings, RegistrySettings),
}

Route = tuple[Service, str, str]


def routes() -> list[Route]:
    """(service, METHOD, path template) of every route in every service's OpenAPI document."""
    found: list[Route] = []
    for service in SERVICES:
        document = APPS[service][0]().openapi()
        for path, operations in document["paths"].items():
            for method in operations:
                found.append((service, method.upper(), path))
    return found


def authenticated_routes() -> list[Route]:
    return [route for route in routes() if route[2] not in UNAUTHENTICATED_PATHS]


def filled(path: str, values: dict[str, str] | None = None) -> str:
    """The path template with each {param} replaced by values[param], else a fresh UUID."""
    out = path
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        name = out[start + 1 : end]
        value = (values or {}).get(name, str(uuid.uuid4()))
        out = out[:start] + value + out[end + 1 :]
    return out


@asynccontextmanager
async def service_client(
    service: Service, *, address: str | None = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app of the service with its lifespan running, called from its own address."""
    create_app, dependency, settings_class = APPS[service]
    app = create_app()
    if settings:
        overridden = settings_class(**settings)
        app.dependency_overrides[dependency] = lambda: overridden
    async with (
        app.router.lifespan_context(app),
        client_of(app, address=address or unique_address()) as client,
    ):
        yield client
