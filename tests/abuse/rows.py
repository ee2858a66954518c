"""Row counts of every table of every service: what "nothing stored, nothing changed" means."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Sessionmaker = async_sessionmaker[AsyncSession]


async def all_row_counts(sessionmaker: Sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session:
        tables = (
            await session.execute(
                text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema IN ('intake', 'review', 'registry') "
                    "AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        counts: dict[str, int] = {}
        for table in tables:
            counts[table] = int(
                (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            )
    return counts
