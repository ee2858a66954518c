"""Cases arriving at once, taken by 4 review workers together: each case is assigned exactly
once, and the load rule holds across workers (open cases per eligible member differ by at most
one). The suite sends 120; `make bench` (V1) sends 1,000 and times it."""

from __future__ import annotations

import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_unit_with_members, unique_code
from tests.review.bursts import assignment_burst
from tests.support import pump

pytestmark = pytest.mark.usefixtures("catalogue")


async def test_cases_arriving_at_once_are_each_assigned_once_and_evenly(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=4)

    burst = await assignment_burst(sessionmaker, queue, department=department, cases=120, workers=4)

    assert burst.jobs_done == 120
    assert {report for report, _, _ in burst.cases} == burst.sent
    assert all(assignments == 1 for _, _, assignments in burst.cases)
    # Every case with an investigator, never the chair, and the load even to within one.
    assert set(burst.load) == {member.id for member in unit.members}
    assert max(burst.load.values()) - min(burst.load.values()) <= 1, burst.load
    # Drain the status announcements for intake, so later tests do not carry them.
    await pump(sessionmaker, queue)
