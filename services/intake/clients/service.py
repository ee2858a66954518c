"""Issuing, checking, rotating and revoking client credentials.

Every request checks its credential against the database, so a revocation or an expiry takes
effect on the very next request, on every replica. Key ids may be logged; secrets never are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.clients.errors import ClientCredentialNotFound, CredentialNotRotatable
from services.intake.clients.models import ClientCredential, OrganisationKind
from shared.credentials import (
    IssuedCredential,
    credential_accepts,
    invalid_credential,
    issue_credential,
)
from shared.db import utcnow

logger = structlog.get_logger(__name__)

SCOPES = (
    "reports:write",
    "permissions:write",
    "violator-lists:write",
    "status:read",
    "notices:respond",
)
# An old secret that lives on for months after a rotation defeats the rotation.
MAX_ROTATION_OVERLAP = timedelta(days=30)


async def issue_client_credential(
    session: AsyncSession,
    *,
    label: str,
    organisation_kind: OrganisationKind,
    organisation_code: str,
    scopes: Iterable[str],
) -> tuple[ClientCredential, IssuedCredential]:
    """A credential for a new client. The token is in the IssuedCredential, shown once."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    issued = issue_credential("ck")
    credential_id = uuid.uuid4()
    credential = ClientCredential(
        id=credential_id,
        client_id=credential_id,
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


# Built once: every request to intake runs it.
CREDENTIAL_BY_KEY_ID = select(ClientCredential).where(
    ClientCredential.key_id == bindparam("key_id")
)


async def authenticate_client(
    session: AsyncSession, *, key_id: str, secret: str
) -> ClientCredential:
    credential = await session.scalar(CREDENTIAL_BY_KEY_ID, {"key_id": key_id})
    if credential is None or not credential_accepts(
        secret,
        secret_hash=credential.secret_hash,
        revoked_at=credential.revoked_at,
        expires_at=credential.expires_at,
    ):
        raise invalid_credential()
    return credential


async def _credential_for_update(session: AsyncSession, *, key_id: str) -> ClientCredential:
    credential = await session.scalar(
        select(ClientCredential).where(ClientCredential.key_id == key_id).with_for_update()
    )
    if credential is None:
        raise ClientCredentialNotFound(f"No client credential {key_id}.")
    return credential


async def revoke_client_credential(session: AsyncSession, *, key_id: str) -> ClientCredential:
    """Revoke one credential at once: its next request is refused. Revoking it again keeps the
    first revocation's time. A rotated client's other credential is not touched; revoke it by
    its own key id."""
    credential = await _credential_for_update(session, key_id=key_id)
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        await session.flush()
        logger.info("client credential revoked", key_id=key_id)
    return credential


async def rotate_client_credential(
    session: AsyncSession, *, key_id: str, overlap: timedelta
) -> tuple[ClientCredential, IssuedCredential]:
    """Issue a new secret for the same client; the old one keeps working for `overlap`.

    The new credential has the old one's organisation and scopes and no expiry. The old one's
    expiry is brought forward to now + overlap (never pushed back), so both work while the
    client's replicas switch over, and after that only the new one. A zero overlap cuts over at
    once. A revoked or expired credential cannot be rotated: that would bring it back.
    """
    if overlap < timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise ValueError(f"the overlap must be between 0 and {MAX_ROTATION_OVERLAP.days} days")
    old = await _credential_for_update(session, key_id=key_id)
    now = utcnow()
    if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
        raise CredentialNotRotatable(
            f"Credential {key_id} is revoked or expired; issue a new credential instead."
        )
    issued = issue_credential("ck")
    new = ClientCredential(
        id=uuid.uuid4(),
        client_id=old.client_id,
        key_id=issued.key_id,
        secret_hash=issued.secret_hash,
        label=old.label,
        organisation_kind=old.organisation_kind,
        organisation_code=old.organisation_code,
        scopes=list(old.scopes),
    )
    session.add(new)
    cutover = now + overlap
    if old.expires_at is None or old.expires_at > cutover:
        old.expires_at = cutover
    await session.flush()
    logger.info(
        "client credential rotated",
        key_id=key_id,
        new_key_id=new.key_id,
        old_expires_at=old.expires_at.isoformat(),
    )
    return new, issued
