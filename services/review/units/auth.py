"""The calling member, resolved from a personal credential: every write is attributed to them."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Header

from services.review.units.models import Member
from services.review.units.service import authenticate_member
from shared.credentials import parse_bearer
from shared.http import DbSession


async def current_member(
    session: DbSession, authorization: Annotated[str | None, Header()] = None
) -> Member:
    key_id, secret = parse_bearer(authorization)
    member = await authenticate_member(session, key_id=key_id, secret=secret)
    structlog.contextvars.bind_contextvars(member_id=str(member.id))
    return member


CurrentMember = Annotated[Member, Depends(current_member)]
