"""Closing cases: a recorded violation stays open to appeal for the window and its grace, then
the hourly sweep closes it; an appealed case closes once registry records the appeal's outcome;
what no appeal can follow (a cleared finding, a permission decision) closes when recorded. Each
close is on the case's history and announced to the portal as "closed"."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.cases.service import mark_recorded
from services.review.cases.tasks import sweep_settled_cases
from shared.db import unit_of_work, utcnow
from shared.messages import RecordCreated
from tests.review.appeal_steps import add_unit_member, recorded_violation_case
from tests.review.steps import (
    announced_statuses,
    assigned_case,
    case_row,
    determine,
    execute,
    take_case_to,
    worker_ctx,
)

pytestmark = pytest.mark.usefixtures("catalogue")

WINDOW_DAYS, GRACE_DAYS = 30, 7


async def sweep(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """The hourly job, as the worker runs it, with the default window (30) and grace (7)."""
    return await sweep_settled_cases(worker_ctx(sessionmaker))


async def countersigned_days_ago(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID, days: int
) -> None:
    await execute(
        sessionmaker,
        "UPDATE review.determination SET countersigned_at = now() - make_interval(days => :days) "
        "WHERE case_id = :id",
        id=case_id,
        days=days,
    )


async def record_created(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID, record_kind: str
) -> None:
    async with unit_of_work(sessionmaker) as session:
        submission_id = (
            await session.execute(
                text("SELECT submission_id FROM review.case WHERE id = :id"), {"id": case_id}
            )
        ).scalar_one()
        await mark_recorded(
            session,
            record=RecordCreated(
                record_id=uuid.uuid4(),
                record_kind=record_kind,
                case_id=case_id,
                submission_id=submission_id,
                recorded_at=utcnow(),
            ),
            correlation_id="test-record-created",
        )


async def test_a_recorded_violation_closes_only_after_its_appeal_window_and_grace(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    # Inside the window, and inside the grace after it: still open to an appeal.
    assert await sweep(sessionmaker) == 0
    await countersigned_days_ago(sessionmaker, case_id, WINDOW_DAYS + GRACE_DAYS)
    assert await sweep(sessionmaker) == 0
    assert (await case_row(sessionmaker, case_id))["state"] == "recorded"

    await countersigned_days_ago(sessionmaker, case_id, WINDOW_DAYS + GRACE_DAYS + 1)
    assert await sweep(sessionmaker) == 1
    assert (await case_row(sessionmaker, case_id))["state"] == "closed"
    assert (await announced_statuses(sessionmaker, case_id))[-1] == "closed"
    # A second sweep finds nothing more: closing is once.
    assert await sweep(sessionmaker) == 0
    read = await review_api.get(f"/v1/cases/{case_id}", headers=unit.chair.headers)
    assert read.status_code == 200, read.text
    last = read.json()["history"][-1]
    assert last["to_state"] == "closed" and "no appeal" in last["reason"]
    # Closed, it can no longer be appealed.
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    late = await review_api.post(
        f"/v1/cases/{case_id}/appeal",
        json={"grounds": "Too late.", "filed_on": date.today().isoformat()},
        headers=secretary.headers,
    )
    assert late.status_code == 409, late.text


async def test_an_appealed_case_closes_when_registry_records_the_outcome(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, _ = await recorded_violation_case(review_api, sessionmaker)
    secretary = await add_unit_member(sessionmaker, unit, "secretary")
    appellate = await add_unit_member(sessionmaker, unit, "appellate_authority")
    filed = await review_api.post(
        f"/v1/cases/{case_id}/appeal",
        json={"grounds": "Not my post.", "filed_on": date.today().isoformat()},
        headers=secretary.headers,
    )
    assert filed.status_code == 201, filed.text
    # An appealed case is never closed by the sweep, however old its finding.
    await countersigned_days_ago(sessionmaker, case_id, 400)
    assert await sweep(sessionmaker) == 0

    decided = await review_api.post(
        f"/v1/cases/{case_id}/appeal-decision",
        json={"outcome": "upheld", "reasons": "The post was the employee's own."},
        headers=appellate.headers,
    )
    assert decided.status_code == 200, decided.text
    # A record of another kind on the case (a sanction event) does not close it.
    await record_created(sessionmaker, case_id, "sanction_event")
    assert (await case_row(sessionmaker, case_id))["state"] == "appeal_decided"
    await record_created(sessionmaker, case_id, "appeal_outcome")
    assert (await case_row(sessionmaker, case_id))["state"] == "closed"
    assert (await announced_statuses(sessionmaker, case_id))[-2:] == ["appeal_decided", "closed"]
    # Redelivered, the record changes nothing more.
    await record_created(sessionmaker, case_id, "appeal_outcome")
    assert (await announced_statuses(sessionmaker, case_id)).count("closed") == 1


async def test_a_cleared_finding_closes_as_soon_as_it_is_recorded(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, investigator = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, investigator, "hearing_concluded")
    cleared = await determine(
        review_api, case_id, investigator, finding="cleared", reasons="Not the employee's."
    )
    assert cleared.status_code == 200, cleared.text
    await record_created(sessionmaker, case_id, "cleared_finding")
    assert (await case_row(sessionmaker, case_id))["state"] == "closed"
    assert (await announced_statuses(sessionmaker, case_id))[-1] == "closed"
