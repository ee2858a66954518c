"""Reading the catalogues: the current version of the rules and of the penalties."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.catalogue.models import (
    CatalogueVersion,
    Penalty,
    PenaltyCatalogueVersion,
    Rule,
)
from shared.errors import ServiceUnavailable


class CatalogueMissing(ServiceUnavailable):
    code = "catalogue-missing"
    title = "No rules catalogue has been published"


class PenaltyCatalogueMissing(ServiceUnavailable):
    code = "penalty-catalogue-missing"
    title = "No penalties catalogue has been published"


async def newest_version(
    session: AsyncSession,
    *,
    versions: type[CatalogueVersion] | type[PenaltyCatalogueVersion],
    missing: ServiceUnavailable,
) -> int:
    """The newest published version of a catalogue, or `missing` if none was published."""
    version: int | None = await session.scalar(select(func.max(versions.version)))
    if version is None:
        raise missing
    return version


async def current_catalogue_version(session: AsyncSession) -> int:
    """The newest published version; the initial migration publishes version 1."""
    return await newest_version(
        session,
        versions=CatalogueVersion,
        missing=CatalogueMissing("The registry holds no rules catalogue; run the migrations."),
    )


async def current_catalogue(session: AsyncSession) -> tuple[CatalogueVersion, list[Rule]]:
    version = await current_catalogue_version(session)
    published = await session.get_one(CatalogueVersion, version)
    rules = (
        await session.scalars(
            select(Rule).where(Rule.catalogue_version == version).order_by(Rule.code)
        )
    ).all()
    return published, list(rules)


async def current_penalty_catalogue_version(session: AsyncSession) -> int:
    """The newest published penalties version; migration registry_0003 publishes version 1."""
    return await newest_version(
        session,
        versions=PenaltyCatalogueVersion,
        missing=PenaltyCatalogueMissing(
            "The registry holds no penalties catalogue; run the migrations."
        ),
    )


async def current_penalty_catalogue(
    session: AsyncSession,
) -> tuple[PenaltyCatalogueVersion, list[Penalty]]:
    version = await current_penalty_catalogue_version(session)
    published = await session.get_one(PenaltyCatalogueVersion, version)
    penalties = (
        await session.scalars(
            select(Penalty).where(Penalty.catalogue_version == version).order_by(Penalty.position)
        )
    ).all()
    return published, list(penalties)


async def penalty_in_force(session: AsyncSession, *, code: str) -> Penalty | None:
    """The penalty of that code in the current catalogue version, or None if it has none."""
    version = await current_penalty_catalogue_version(session)
    return await session.get(Penalty, (version, code))
