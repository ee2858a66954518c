"""Routing cases to the unit that serves their organisation, when it came to serve it late.

A case opened while no monitoring unit covered its department or institution waits unrouted
(no unit, state received). When a unit's jurisdiction grows to cover it (`conduct units
cover`), the waiting cases of that organisation are routed to it and assigned like any other;
the minute's sweep does the same for any it missed. Each routing is on the case's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from services.review.cases.history import note_on_case
from services.review.cases.lifecycle import CaseState
from services.review.cases.models import Case
from services.review.units.models import MonitoringUnit, UnitJurisdiction


def covering_unit() -> ScalarSelect[uuid.UUID]:
    """The unit that serves a case's organisation, chosen as a new case's is (lowest id)."""
    return (
        select(UnitJurisdiction.unit_id)
        .where(UnitJurisdiction.organisation_code == Case.department)
        .order_by(UnitJurisdiction.unit_id)
        .limit(1)
        .scalar_subquery()
    )


async def route_unrouted_cases(session: AsyncSession, *, limit: int) -> dict[uuid.UUID, int]:
    """Give waiting, unrouted cases whose organisation a unit now serves to that unit.
    Returns how many each unit received. Locked rows another worker holds are skipped."""
    unit = covering_unit()
    rows = (
        await session.execute(
            select(Case, unit)
            .where(Case.unit_id.is_(None), Case.state == CaseState.RECEIVED, unit.is_not(None))
            .order_by(Case.opened_at, Case.id)
            .limit(limit)
            .with_for_update(of=Case, skip_locked=True)
        )
    ).all()
    codes = dict(
        (
            await session.execute(
                select(MonitoringUnit.id, MonitoringUnit.code).where(
                    MonitoringUnit.id.in_({unit_id for _, unit_id in rows})
                )
            )
        ).all()
    )
    routed: dict[uuid.UUID, int] = {}
    for case, unit_id in rows:
        case.unit_id = unit_id
        note_on_case(
            session,
            case=case,
            actor=None,
            reason=f"routed to unit {codes[unit_id]}, which now serves {case.department}",
        )
        routed[unit_id] = routed.get(unit_id, 0) + 1
    await session.flush()
    return routed


async def extend_jurisdiction(
    session: AsyncSession, *, unit: MonitoringUnit, organisations: Iterable[str]
) -> list[str]:
    """Add organisations to the unit's jurisdiction; returns those it did not serve already."""
    served = set(
        (
            await session.scalars(
                select(UnitJurisdiction.organisation_code).where(
                    UnitJurisdiction.unit_id == unit.id
                )
            )
        ).all()
    )
    added = sorted(set(organisations) - served)
    session.add_all([UnitJurisdiction(unit_id=unit.id, organisation_code=code) for code in added])
    await session.flush()
    return added
