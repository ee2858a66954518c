"""Issuing and checking client credentials."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.clients.models import ClientCredential, OrganisationKind
from shared.credentials import (
    IssuedCredential,
    invalid_credential,
    issue_credential,
    secret_matches,
)
from shared.db import utcnow

SCOPES = ("reports:write", "permissions:write", "violator-lists:write", "status:read")


async def issue_client_credential(
    session: AsyncSession,
    *,
    label: str,
    organisation_kind: OrganisationKind,
    organisation_code: str,
    scopes: Iterable[str],
) -> tuple[ClientCredential, IssuedCredential]:
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    issued = issue_credential("ck")
    credential = ClientCredential(
        key_id=issued.key_id,
        secret_hash=issued.secret_hash,
        label=label,
        organisation_kind=organisation_kind,
        organisation_code=organisation_code,
        scopes=sorted(set(scopes)),
    )
    session.add(credential)
    await session.flush()
    return credential, issued


async def authenticate_client(
    session: AsyncSession, *, key_id: str, secret: str
) -> ClientCredential:
    credential = await session.scalar(
        select(ClientCredential).where(ClientCredential.key_id == key_id)
    )
    now = utcnow()
    if (
        credential is None
        or not secret_matches(secret, credential.secret_hash)
        or credential.revoked_at is not None
        or (credential.expires_at is not None and credential.expires_at <= now)
    ):
        raise invalid_credential()
    return credential
