"""Catalogue endpoints: any registry credential may read the rules a finding can cite and the
penalties a sanction can impose."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.catalogue.schemas import (
    PenaltiesCatalogueRead,
    PenaltyRead,
    RuleRead,
    RulesCatalogueRead,
)
from services.registry.catalogue.service import (
    CatalogueMissing,
    PenaltyCatalogueMissing,
    current_catalogue,
    current_penalty_catalogue,
)
from services.registry.readers.auth import CurrentReader
from shared.errors import Unauthenticated, responses_for
from shared.http import DbSession

router = APIRouter(prefix="/v1/catalogue", tags=["catalogue"])


@router.get(
    "/rules",
    response_model=RulesCatalogueRead,
    responses=responses_for(Unauthenticated, CatalogueMissing),
)
async def list_rules(reader: CurrentReader, session: DbSession) -> RulesCatalogueRead:
    """The rules of the current catalogue version, by code: the Conduct Rules 1964 and 1987
    and the federal notification's instructions, each with its reply window."""
    published, rules = await current_catalogue(session)
    return RulesCatalogueRead(
        catalogue_version=published.version,
        published_at=published.published_at,
        note=published.note,
        rules=[RuleRead.model_validate(rule) for rule in rules],
    )


@router.get(
    "/penalties",
    response_model=PenaltiesCatalogueRead,
    responses=responses_for(Unauthenticated, PenaltyCatalogueMissing),
)
async def list_penalties(reader: CurrentReader, session: DbSession) -> PenaltiesCatalogueRead:
    """The penalties of the current catalogue version under the Efficiency and Discipline
    Rules 2020, minor before major, each saying whether it runs for a period."""
    published, penalties = await current_penalty_catalogue(session)
    return PenaltiesCatalogueRead(
        catalogue_version=published.version,
        published_at=published.published_at,
        note=published.note,
        penalties=[PenaltyRead.model_validate(penalty) for penalty in penalties],
    )
