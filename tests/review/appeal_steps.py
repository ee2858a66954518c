"""Steps the appeal tests share: adding a secretary or an appellate authority to a unit, and a
case whose violation finding is countersigned and recorded by registry."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.cases.service import mark_recorded
from services.review.units.models import MemberRole, MonitoringUnit
from services.review.units.service import add_member, issue_member_credential
from shared.db import unit_of_work, utcnow
from shared.messages import RecordCreated
from tests.factories import SeededMember, SeededUnit
from tests.review.steps import act, assigned_case, take_case_to


async def add_unit_member(
    sessionmaker: async_sessionmaker[AsyncSession], unit: SeededUnit, role: MemberRole
) -> SeededMember:
    async with unit_of_work(sessionmaker) as session:
        monitoring_unit = await session.get(MonitoringUnit, unit.id)
        assert monitoring_unit is not None
        employee_ref = f"EMP-{role}-{uuid.uuid4().hex[:6]}"
        office = f"Office of the {role} {uuid.uuid4().hex[:6]}"
        member = await add_member(
            session,
            unit=monitoring_unit,
            name=f"{role} of {unit.code}",
            employee_ref=employee_ref,
            office=office,
            role=role,
        )
        issued = await issue_member_credential(session, member=member)
    return SeededMember(
        id=member.id, employee_ref=employee_ref, office=office, role=role, token=issued.token
    )


async def record_in_registry(
    sessionmaker: async_sessionmaker[AsyncSession], case: dict[str, Any]
) -> None:
    """review's effect of registry's record.created for the case's violation."""
    async with unit_of_work(sessionmaker) as session:
        await mark_recorded(
            session,
            record=RecordCreated(
                record_id=uuid.uuid4(),
                record_kind="violation",
                case_id=uuid.UUID(case["id"]),
                submission_id=uuid.UUID(case["submission_id"]),
                recorded_at=utcnow(),
            ),
            correlation_id="test-record-created",
        )


async def recorded_violation_case(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[SeededUnit, uuid.UUID, SeededMember]:
    """A case whose violation finding the chair countersigned and registry recorded; the unit,
    the case and its investigator."""
    unit, case_id, investigator = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, investigator, "determined")
    countersigned = await act(review_api, case_id, "countersign", unit.chair)
    assert countersigned.status_code == 200, countersigned.text
    await record_in_registry(sessionmaker, countersigned.json())
    return unit, case_id, investigator
