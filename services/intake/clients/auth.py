"""Dependencies that resolve the calling client, hold it to its rate, and check its scopes.

Order matters: an address that keeps failing authentication is refused (429) before its
credential is looked at; a client's own rate is counted only once it has proved who it is, so
nobody can spend another client's budget by sending its key id with a wrong secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Header, Request

from services.intake.clients.models import ClientCredential
from services.intake.clients.service import authenticate_client
from services.intake.settings import IntakeSettings, get_settings
from shared.credentials import parse_bearer
from shared.errors import Forbidden
from shared.http import DbSession, Resources
from shared.ratelimit import Rate, authenticate_throttled

CLIENT_REQUESTS_BUCKET = "client-requests"

Settings = Annotated[IntakeSettings, Depends(get_settings)]


def client_address(request: Request) -> str:
    # The peer as the ASGI server reports it. Behind a proxy, run uvicorn with
    # --forwarded-allow-ips set to the proxy, never trust X-Forwarded-For from anyone.
    return request.client.host if request.client else "unknown"


async def current_client(
    request: Request,
    session: DbSession,
    resources: Resources,
    settings: Settings,
    authorization: Annotated[str | None, Header()] = None,
) -> ClientCredential:
    async def authenticate() -> ClientCredential:
        key_id, secret = parse_bearer(authorization)
        return await authenticate_client(session, key_id=key_id, secret=secret)

    limiter = resources.rate_limiter
    credential = await authenticate_throttled(
        authenticate,
        limiter=limiter,
        address=client_address(request),
        failures=Rate.per_minute(settings.auth_failures_per_minute),
    )
    structlog.contextvars.bind_contextvars(client_key_id=credential.key_id)
    await limiter.enforce(
        CLIENT_REQUESTS_BUCKET,
        subject=str(credential.client_id),
        rate=Rate.per_minute(settings.rate_limit_per_minute),
        detail="This client has sent too many requests.",
    )
    return credential


CurrentClient = Annotated[ClientCredential, Depends(current_client)]


def client_with_scope(scope: str) -> Callable[[ClientCredential], Awaitable[ClientCredential]]:
    async def check(client: CurrentClient) -> ClientCredential:
        if scope not in client.scopes:
            raise Forbidden(f"This credential lacks the '{scope}' scope.")
        return client

    return check


def department_client(scope: str) -> Callable[[ClientCredential], Awaitable[ClientCredential]]:
    """A client with the scope that speaks for a department (a portal, not an institution)."""
    with_scope = client_with_scope(scope)

    async def check(client: CurrentClient) -> ClientCredential:
        await with_scope(client)
        if client.organisation_kind != "department":
            raise Forbidden("Only a departmental portal's credential may do this.")
        return client

    return check


def institution_client(scope: str) -> Callable[[ClientCredential], Awaitable[ClientCredential]]:
    """A client with the scope that speaks for a Medical Teaching Institution."""
    with_scope = client_with_scope(scope)

    async def check(client: CurrentClient) -> ClientCredential:
        await with_scope(client)
        if client.organisation_kind != "institution":
            raise Forbidden("Only a Medical Teaching Institution's credential may do this.")
        return client

    return check
