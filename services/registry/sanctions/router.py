"""Sanction endpoints: a competent authority records the events of a sanction against a current
violation of its department (or any, if bound to none); auditors and competent authorities
read a violation's sanctions as the registry stood at any moment."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry.catalogue.service import CatalogueMissing, PenaltyCatalogueMissing
from services.registry.ledger.errors import ViolationNotCurrent, ViolationNotFound
from services.registry.ledger.schemas import AsOf
from services.registry.readers.auth import CompetentAuthority, RecordReader
from services.registry.readers.errors import RoleNotAllowed
from services.registry.sanctions import service
from services.registry.sanctions.errors import (
    AppealWindowOpen,
    DuplicateOrderReference,
    PenaltyNotInCatalogue,
    SanctionEventNotAllowed,
    UnknownSanction,
)
from services.registry.sanctions.schemas import SanctionEventCreate, SanctionPage, SanctionRead
from services.registry.settings import RegistrySettings, current_settings
from shared.db import BIGINT_MAX, utcnow
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession

router = APIRouter(prefix="/v1/violations/{record_id}/sanctions", tags=["sanctions"])
Settings = Annotated[RegistrySettings, Depends(current_settings)]


@router.post(
    "",
    status_code=201,
    response_model=SanctionRead,
    responses=responses_for(
        Unauthenticated,
        RoleNotAllowed,
        ViolationNotFound,
        InvalidInput,
        PenaltyNotInCatalogue,
        UnknownSanction,
        ViolationNotCurrent,
        SanctionEventNotAllowed,
        DuplicateOrderReference,
        AppealWindowOpen,
        CatalogueMissing,
        PenaltyCatalogueMissing,
    ),
)
async def record_sanction_event(
    record_id: uuid.UUID,
    order: SanctionEventCreate,
    authority: CompetentAuthority,
    session: DbSession,
    settings: Settings,
) -> SanctionRead:
    """Record one order about a sanction on a current violation: `imposed` begins a sanction
    (a penalty from the catalogue, with its period in months if time-bound); `stayed`,
    `varied` (the penalty as varied), `quashed`, `spent` and `expunged` follow it, naming
    `sanction_id`. Each event is appended to the hash-chained ledger, attributed to this
    credential, and answered with the sanction as it now stands.

    Refused: an event that does not follow from the sanction's state (for example, `spent` on
    a quashed sanction), a violation since superseded, an order reference already recorded for
    the violation, and any imposition dated within the violation's appeal window
    (`REGISTRY_APPEAL_WINDOW_DAYS` after its effective date)."""
    history = await service.record_sanction_event(
        session,
        violation_id=record_id,
        order=order,
        authority=authority,
        appeal_window_days=settings.appeal_window_days,
    )
    return SanctionRead.of(history)


@router.get(
    "",
    response_model=SanctionPage,
    responses=responses_for(Unauthenticated, RoleNotAllowed, ViolationNotFound, InvalidInput),
)
async def list_sanctions(
    record_id: uuid.UUID,
    reader: RecordReader,
    session: DbSession,
    as_of: AsOf = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=BIGINT_MAX, description="The `next_cursor` of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SanctionPage:
    """The violation's sanctions as the registry stood at `as_of` (default now), in the order
    they were imposed: each with its state and penalty then, and its events in ledger order.
    A credential bound to a department sees only that department's violations."""
    moment = as_of or utcnow()
    histories, next_cursor = await service.list_sanctions(
        session,
        violation_id=record_id,
        department_scope=reader.organisation_code,
        as_of=moment,
        after=after,
        limit=limit,
    )
    return SanctionPage(
        items=[SanctionRead.of(history) for history in histories],
        next_cursor=next_cursor,
        as_of=moment,
    )
