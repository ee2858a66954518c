"""Reading the rules catalogue: the current version and its rules."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.catalogue.models import CatalogueVersion, Rule
from shared.errors import ServiceUnavailable


class CatalogueMissing(ServiceUnavailable):
    code = "catalogue-missing"
    title = "No rules catalogue has been published"


async def current_catalogue_version(session: AsyncSession) -> int:
    """The newest published version; the initial migration publishes version 1."""
    version: int | None = await session.scalar(select(func.max(CatalogueVersion.version)))
    if version is None:
        raise CatalogueMissing("The registry holds no rules catalogue; run the migrations.")
    return version


async def current_catalogue(session: AsyncSession) -> tuple[CatalogueVersion, list[Rule]]:
    version = await current_catalogue_version(session)
    published = await session.get_one(CatalogueVersion, version)
    rules = (
        await session.scalars(
            select(Rule).where(Rule.catalogue_version == version).order_by(Rule.code)
        )
    ).all()
    return published, list(rules)
