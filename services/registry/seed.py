"""The demo reader credentials for local runs: an auditor of every department, review's own
reader (for the permission check at triage), and the HEALTH department's competent authority
(who records sanctions)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.readers.models import ReaderCredential, ReaderRole
from services.registry.readers.service import (
    authenticate_reader,
    issue_reader_credential,
    revoke_reader_credential,
)
from shared.credentials import parse_bearer
from shared.errors import Unauthenticated

DEMO_AUDITOR = "registry_auditor"
# Review's own reader, for the permission check at triage (REVIEW_REGISTRY_READER_TOKEN).
DEMO_REVIEW_READER = "review_registry_reader"
DEMO_READERS: tuple[tuple[str, ReaderRole, str | None], ...] = (
    (DEMO_AUDITOR, "auditor", None),
    (DEMO_REVIEW_READER, "auditor", None),
    ("registry_competent_authority", "competent_authority", "HEALTH"),
)


def demo_label(name: str) -> str:
    return f"demo {name}"


async def _still_valid(session: AsyncSession, token: str, *, label: str) -> bool:
    try:
        key_id, secret = parse_bearer(f"Bearer {token}")
        credential = await authenticate_reader(session, key_id=key_id, secret=secret)
    except Unauthenticated:
        return False
    return credential.label == label


async def seed_demo(
    session: AsyncSession, *, known_tokens: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Make sure the demo readers exist and return a working token for each.

    A known token that still works is kept. Otherwise, since only hashes are stored, the old
    credential is revoked and a new one issued (a rotation, fine for a dev seed).
    """
    tokens: dict[str, str] = {}
    for name, role, organisation in DEMO_READERS:
        label = demo_label(name)
        known = (known_tokens or {}).get(name)
        if known and await _still_valid(session, known, label=label):
            tokens[name] = known
            continue
        active = (
            await session.scalars(
                select(ReaderCredential).where(
                    ReaderCredential.label == label, ReaderCredential.revoked_at.is_(None)
                )
            )
        ).all()
        for credential in active:
            await revoke_reader_credential(session, credential=credential)
        _, issued = await issue_reader_credential(
            session, label=label, role=role, organisation_code=organisation
        )
        tokens[name] = issued.token
    return tokens
