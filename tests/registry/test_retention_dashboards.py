"""Spent and expunged sanctions leave the dashboards, as the retention policy says
(REGISTRY_RETENTION_SPENT_LEAVE): by default the sanction leaves the penalty counts and the
inconsistency flags while its violation is still counted; with sanction_and_violation the
violation leaves too once every sanction on it is spent or expunged.

Each test counts its own department (the test database is shared by the whole run)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.statistics.service import StatisticsFilter, counted_total
from shared.db import utcnow
from tests.factories import unique_code
from tests.registry.factories import append_settled_violation
from tests.registry.sanction_steps import authority, impose, post
from tests.registry.test_statistics_api import dashboard, groups, statistics


async def sanctioned_department(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[str, dict[str, str], list[dict[str, Any]]]:
    """Seven settled violations, each with a censure imposed on it."""
    department = unique_code("SPENT")
    headers = await authority(sessionmaker, department)
    sanctions = []
    for _ in range(7):
        violation = await append_settled_violation(sessionmaker, department=department)
        sanctions.append(await impose(api, violation.id, headers))
    return department, headers, sanctions


async def test_a_spent_or_expunged_sanction_leaves_the_penalty_counts(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, headers, sanctions = await sanctioned_department(registry_api, sessionmaker)
    reader = await dashboard(sessionmaker, department)
    before = await statistics(registry_api, reader, by="penalty")
    assert groups(before) == {"ED2020-CENSURE": 7}

    for sanction, events in ((sanctions[0], ["spent"]), (sanctions[1], ["spent", "expunged"])):
        for event in events:
            answer = await post(
                registry_api,
                sanction["violation_id"],
                headers,
                event=event,
                sanction_id=sanction["sanction_id"],
            )
            assert answer.status_code == 201, answer.text

    after = await statistics(registry_api, reader, by="penalty")
    assert groups(after) == {"ED2020-CENSURE": 5}
    # The violations themselves are still counted under the default policy.
    assert (await statistics(registry_api, reader, by="department"))["total"] == 7
    # As the registry stood before the sanctions were spent, they still counted.
    earlier = await statistics(registry_api, reader, by="penalty", as_of=before["as_of"])
    assert groups(earlier) == {"ED2020-CENSURE": 7}


async def test_with_sanction_and_violation_the_spent_violation_leaves_too(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, headers, sanctions = await sanctioned_department(registry_api, sessionmaker)
    answer = await post(
        registry_api,
        sanctions[0]["violation_id"],
        headers,
        event="spent",
        sanction_id=sanctions[0]["sanction_id"],
    )
    assert answer.status_code == 201, answer.text

    async with sessionmaker() as session:
        counts = {
            leave: await counted_total(
                session,
                by="department",
                scope=StatisticsFilter(as_of=utcnow(), department=department, spent_leave=leave),
            )
            for leave in ("nothing", "sanction", "sanction_and_violation")
        }
        penalties = await counted_total(
            session,
            by="penalty",
            scope=StatisticsFilter(as_of=utcnow(), department=department, spent_leave="nothing"),
        )
    assert counts == {"nothing": 7, "sanction": 7, "sanction_and_violation": 6}
    assert penalties == 7
