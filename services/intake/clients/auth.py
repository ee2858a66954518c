"""Dependencies that resolve the calling client, hold it to its rate (both limits of
shared.ratelimit.authenticate_within_limits), and check its scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Header, Request

from services.intake.clients.models import ClientCredential
from services.intake.clients.service import authenticate_client
from services.intake.settings import IntakeSettings, current_settings
from shared.credentials import parse_bearer
from shared.errors import Forbidden
from shared.http import DbSession, Resources, caller_address
from shared.ratelimit import Rate, authenticate_within_limits

Settings = Annotated[IntakeSettings, Depends(current_settings)]


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

    credential = await authenticate_within_limits(
        authenticate,
        limiter=resources.rate_limiter,
        address=caller_address(request),
        caller_of=lambda credential: f"client:{credential.client_id}",
        requests=Rate.per_minute(settings.rate_limit_per_minute),
        failures=Rate.per_minute(settings.auth_failures_per_minute),
    )
    structlog.contextvars.bind_contextvars(client_key_id=credential.key_id)
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
