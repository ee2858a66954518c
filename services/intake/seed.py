"""Demo client credentials for local runs: a departmental portal and an MTI system."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.clients.models import OrganisationKind
from services.intake.clients.service import authenticate_client, issue_client_credential
from shared.credentials import parse_bearer
from shared.errors import Unauthenticated

DEMO_CLIENTS: tuple[tuple[str, OrganisationKind, str, tuple[str, ...]], ...] = (
    (
        "portal_health",
        "department",
        "HEALTH",
        ("reports:write", "permissions:write", "status:read", "notices:respond"),
    ),
    ("mti_lrh", "institution", "MTI-LRH", ("violator-lists:write", "status:read")),
)


async def seed_demo(session: AsyncSession, *, known_tokens: dict[str, str]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for label, kind, organisation, scopes in DEMO_CLIENTS:
        known = known_tokens.get(label)
        if known:
            try:
                key_id, secret = parse_bearer(f"Bearer {known}")
                await authenticate_client(session, key_id=key_id, secret=secret)
                tokens[label] = known
                continue
            except Unauthenticated:
                pass
        _, issued = await issue_client_credential(
            session,
            label=f"demo {label}",
            organisation_kind=kind,
            organisation_code=organisation,
            scopes=scopes,
        )
        tokens[label] = issued.token
    return tokens
