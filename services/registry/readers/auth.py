"""Dependencies that resolve the calling reader, hold it to its rate (both limits of
shared.ratelimit.authenticate_within_limits), and check its role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Header, Request

from services.registry.readers.errors import RoleNotAllowed
from services.registry.readers.models import ReaderCredential, ReaderRole
from services.registry.readers.service import authenticate_reader
from services.registry.settings import RegistrySettings, current_settings
from shared.credentials import parse_bearer
from shared.http import DbSession, Resources, caller_address
from shared.ratelimit import Rate, authenticate_within_limits


async def current_reader(
    request: Request,
    session: DbSession,
    resources: Resources,
    settings: Annotated[RegistrySettings, Depends(current_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> ReaderCredential:
    async def authenticate() -> ReaderCredential:
        key_id, secret = parse_bearer(authorization)
        return await authenticate_reader(session, key_id=key_id, secret=secret)

    credential = await authenticate_within_limits(
        authenticate,
        limiter=resources.rate_limiter,
        address=caller_address(request),
        caller_of=lambda credential: f"reader:{credential.id}",
        requests=Rate.per_minute(settings.rate_limit_per_minute),
        failures=Rate.per_minute(settings.auth_failures_per_minute),
    )
    structlog.contextvars.bind_contextvars(reader_key_id=credential.key_id)
    return credential


CurrentReader = Annotated[ReaderCredential, Depends(current_reader)]


def reader_with_role(
    *roles: ReaderRole,
) -> Callable[[ReaderCredential], Awaitable[ReaderCredential]]:
    async def check(reader: CurrentReader) -> ReaderCredential:
        if reader.role not in roles:
            raise RoleNotAllowed(f"Only {' or '.join(roles)} credentials may do this.")
        return reader

    return check


# Personal data of a finding: for those whose role needs it, never dashboards.
RecordReader = Annotated[
    ReaderCredential, Depends(reader_with_role("auditor", "competent_authority"))
]
Auditor = Annotated[ReaderCredential, Depends(reader_with_role("auditor"))]
# The one role that writes over HTTP: sanctions, each event attributed to the credential.
CompetentAuthority = Annotated[ReaderCredential, Depends(reader_with_role("competent_authority"))]
