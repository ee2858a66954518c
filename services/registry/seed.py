"""The demo reader credential for local runs: an auditor of every department."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.readers.models import ReaderCredential
from services.registry.readers.service import (
    authenticate_reader,
    issue_reader_credential,
    revoke_reader_credential,
)
from shared.credentials import parse_bearer
from shared.errors import Unauthenticated

DEMO_AUDITOR = "registry_auditor"
DEMO_AUDITOR_LABEL = "demo registry_auditor"


async def _still_valid(session: AsyncSession, token: str) -> bool:
    try:
        key_id, secret = parse_bearer(f"Bearer {token}")
        credential = await authenticate_reader(session, key_id=key_id, secret=secret)
    except Unauthenticated:
        return False
    return credential.label == DEMO_AUDITOR_LABEL


async def seed_demo(
    session: AsyncSession, *, known_tokens: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Make sure the demo auditor exists and return a working token for it.

    A known token that still works is kept. Otherwise, since only hashes are stored, the old
    credential is revoked and a new one issued (a rotation, fine for a dev seed).
    """
    known = (known_tokens or {}).get(DEMO_AUDITOR)
    if known and await _still_valid(session, known):
        return {DEMO_AUDITOR: known}
    active = (
        await session.scalars(
            select(ReaderCredential).where(
                ReaderCredential.label == DEMO_AUDITOR_LABEL, ReaderCredential.revoked_at.is_(None)
            )
        )
    ).all()
    for credential in active:
        await revoke_reader_credential(session, credential=credential)
    _, issued = await issue_reader_credential(session, label=DEMO_AUDITOR_LABEL, role="auditor")
    return {DEMO_AUDITOR: issued.token}
