"""Issuing, checking and revoking reader credentials."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.readers.models import READER_ROLES, ReaderCredential, ReaderRole
from shared.credentials import (
    IssuedCredential,
    credential_accepts,
    invalid_credential,
    issue_credential,
)
from shared.db import utcnow


async def issue_reader_credential(
    session: AsyncSession,
    *,
    label: str,
    role: ReaderRole,
    organisation_code: str | None = None,
) -> tuple[ReaderCredential, IssuedCredential]:
    """A new credential; the token is in the IssuedCredential and is never stored."""
    if role not in READER_ROLES:
        raise ValueError(f"unknown reader role: {role}")
    issued = issue_credential("rk")
    credential = ReaderCredential(
        key_id=issued.key_id,
        secret_hash=issued.secret_hash,
        label=label,
        role=role,
        organisation_code=organisation_code,
    )
    session.add(credential)
    await session.flush()
    return credential, issued


async def authenticate_reader(
    session: AsyncSession, *, key_id: str, secret: str
) -> ReaderCredential:
    credential = await session.scalar(
        select(ReaderCredential).where(ReaderCredential.key_id == key_id)
    )
    if credential is None or not credential_accepts(
        secret, secret_hash=credential.secret_hash, revoked_at=credential.revoked_at
    ):
        raise invalid_credential()
    return credential


async def revoke_reader_credential(session: AsyncSession, *, credential: ReaderCredential) -> None:
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        await session.flush()
