"""The two-organisation world the abuse tests share, seeded once per run."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.abuse.world import World, seed_world


@pytest.fixture(scope="session")
async def world(
    sessionmaker: async_sessionmaker[AsyncSession],
    catalogue: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    return await seed_world(sessionmaker, str(tmp_path_factory.mktemp("abuse-evidence")))
