"""The demo auditor of local runs: a token that works, kept while it works, rotated otherwise."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.seed import DEMO_AUDITOR, seed_demo
from shared.db import unit_of_work
from tests.factories import bearer


async def seeded(
    sessionmaker: async_sessionmaker[AsyncSession], known: dict[str, str] | None = None
) -> str:
    async with unit_of_work(sessionmaker) as session:
        tokens = await seed_demo(session, known_tokens=known)
    return tokens[DEMO_AUDITOR]


async def test_the_seeded_auditor_can_verify_and_keeps_a_working_token(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await seeded(sessionmaker)
    assert (await registry_api.get("/v1/audit/verify", headers=bearer(first))).status_code == 200
    assert await seeded(sessionmaker, {DEMO_AUDITOR: first}) == first


async def test_without_its_token_the_seed_rotates_the_demo_auditor(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    old = await seeded(sessionmaker)
    new = await seeded(sessionmaker, {DEMO_AUDITOR: "rk_0000000000000000.lost"})
    assert new != old
    assert (await registry_api.get("/v1/violations", headers=bearer(old))).status_code == 401
    assert (await registry_api.get("/v1/violations", headers=bearer(new))).status_code == 200


async def test_the_seeded_competent_authority_reads_only_its_department(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with unit_of_work(sessionmaker) as session:
        tokens = await seed_demo(session, known_tokens=None)
    authority = bearer(tokens["registry_competent_authority"])
    assert (await registry_api.get("/v1/violations", headers=authority)).status_code == 200
    other = await registry_api.get("/v1/violations?department=FINANCE", headers=authority)
    assert other.status_code == 403
    # Verifying the chain is the auditor's, not the competent authority's.
    assert (await registry_api.get("/v1/audit/verify", headers=authority)).status_code == 403
