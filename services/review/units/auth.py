"""The calling member, resolved from a personal credential: every write is attributed to them.

Held to the limits of shared.ratelimit.authenticate_within_limits: an address that keeps
failing authentication gets 429 before its credential is looked at, and each member has a
request budget shared by every replica.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Header, Request

from services.review.settings import ReviewSettings, current_settings
from services.review.units.models import Member
from services.review.units.service import authenticate_member
from shared.credentials import parse_bearer
from shared.http import DbSession, Resources, caller_address
from shared.ratelimit import Rate, authenticate_within_limits


async def current_member(
    request: Request,
    session: DbSession,
    resources: Resources,
    settings: Annotated[ReviewSettings, Depends(current_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> Member:
    async def authenticate() -> Member:
        key_id, secret = parse_bearer(authorization)
        return await authenticate_member(session, key_id=key_id, secret=secret)

    member = await authenticate_within_limits(
        authenticate,
        limiter=resources.rate_limiter,
        address=caller_address(request),
        caller_of=lambda member: f"member:{member.id}",
        requests=Rate.per_minute(settings.rate_limit_per_minute),
        failures=Rate.per_minute(settings.auth_failures_per_minute),
    )
    structlog.contextvars.bind_contextvars(member_id=str(member.id))
    return member


CurrentMember = Annotated[Member, Depends(current_member)]
