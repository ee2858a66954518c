"""Dependencies that resolve the calling client and check its scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Header

from services.intake.clients.models import ClientCredential
from services.intake.clients.service import authenticate_client
from shared.credentials import parse_bearer
from shared.errors import Forbidden
from shared.http import DbSession


async def current_client(
    session: DbSession, authorization: Annotated[str | None, Header()] = None
) -> ClientCredential:
    key_id, secret = parse_bearer(authorization)
    credential = await authenticate_client(session, key_id=key_id, secret=secret)
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
