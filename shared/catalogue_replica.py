"""A service's local replica of registry's rules catalogue, fed by catalogue.rules_published.

intake and review check rule codes against their own copy instead of calling registry on
every request, so they keep working while registry is down.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.messages import RulesCataloguePublished, Service


class RuleReferenceColumns:
    __tablename__ = "rule_reference"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    reply_window_working_days: Mapped[int] = mapped_column(Integer)
    catalogue_version: Mapped[int] = mapped_column(Integer)


async def replace_rules_replica(
    session: AsyncSession, *, service: Service, catalogue: RulesCataloguePublished
) -> bool:
    """Make the replica equal to this catalogue version, unless a newer one is already held."""
    held = (
        await session.execute(text(f"SELECT max(catalogue_version) FROM {service}.rule_reference"))
    ).scalar()
    if held is not None and held > catalogue.catalogue_version:
        return False
    await session.execute(text(f"DELETE FROM {service}.rule_reference"))
    for rule in catalogue.rules:
        await session.execute(
            text(
                f"INSERT INTO {service}.rule_reference "
                "(code, title, reply_window_working_days, catalogue_version) "
                "VALUES (:code, :title, :days, :version)"
            ),
            {
                "code": rule.code,
                "title": rule.title,
                "days": rule.reply_window_working_days,
                "version": catalogue.catalogue_version,
            },
        )
    return True


async def rules_replica_loaded(session: AsyncSession, *, service: Service) -> bool:
    """Readiness: a service that checks rule codes cannot serve before its replica arrives."""
    held = await session.execute(text(f"SELECT 1 FROM {service}.rule_reference LIMIT 1"))
    return held.first() is not None
