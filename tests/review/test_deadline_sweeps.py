"""review's scheduled sweeps, called as arq calls them (a ctx holding the worker's resources)
against the real database: lapsed reply windows close, cases untouched past their stage's
deadline are escalated to the chair once per stage, waiting cases find a member who became
eligible, and several sweeps at once still move each case once. Dates are moved into the past
in the tables rather than waited for."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.cases.history import CONTRACT_STATUSES
from services.review.cases.tasks import sweep_deadlines, sweep_waiting_cases
from services.review.settings import ReviewSettings
from tests.factories import SeededUnit, create_unit_with_members, open_report_case, unique_code
from tests.review.steps import (
    HEARING,
    REPLY,
    act,
    announced_statuses,
    assignee_of,
    case_row,
    determine,
    execute,
    read_case,
    take_case_to,
    worker_ctx,
)

pytestmark = pytest.mark.usefixtures("catalogue")

LONG_AGO = datetime.now(UTC) - timedelta(days=60)


async def reply_due_on(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID, *, days_ago: int
) -> None:
    await execute(
        sessionmaker,
        "UPDATE review.notice SET reply_due_on = CAST(:due AS date) WHERE case_id = :id",
        due=(datetime.now(UTC) - timedelta(days=days_ago)).date(),
        id=case_id,
    )


async def untouched_since(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID, at: datetime = LONG_AGO
) -> None:
    await execute(
        sessionmaker, "UPDATE review.case SET updated_at = :at WHERE id = :id", at=at, id=case_id
    )


async def escalations(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text("SELECT state FROM review.case_escalation WHERE case_id = :id ORDER BY state"),
            {"id": case_id},
        )
        return [state for (state,) in rows]


async def escalated_ids(
    review_api: httpx.AsyncClient, unit: SeededUnit, *, escalated: str = "true"
) -> set[str]:
    response = await review_api.get(
        "/v1/cases", params={"escalated": escalated}, headers=unit.chair.headers
    )
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_a_reply_window_lapses_once_its_date_has_passed_without_a_reply(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=1)
    member = unit.members[0]
    overdue, due_today, replied = [
        await open_report_case(sessionmaker, department=department) for _ in range(3)
    ]
    for case_id in (overdue, due_today):
        await take_case_to(review_api, case_id, member, "notice_issued")
    await take_case_to(review_api, replied, member, "reply_received")
    await reply_due_on(sessionmaker, overdue, days_ago=30)
    await reply_due_on(sessionmaker, due_today, days_ago=0)
    await reply_due_on(sessionmaker, replied, days_ago=30)

    counts = await sweep_deadlines(worker_ctx(sessionmaker))

    assert counts["lapsed"] >= 1
    case = await read_case(review_api, overdue, member)
    assert case["state"] == "reply_window_lapsed"
    event = case["history"][-1]
    assert (event["from_state"], event["to_state"]) == ("notice_issued", "reply_window_lapsed")
    assert event["actor_member_id"] is None
    assert event["reason"] == f"reply window lapsed: no reply by {case['notice']['reply_due_on']}"
    # The day itself is still the employee's; a reply already in is never overtaken.
    assert (await case_row(sessionmaker, due_today))["state"] == "notice_issued"
    assert (await case_row(sessionmaker, replied))["state"] == "reply_received"

    # A second run changes nothing; a late reply is refused; the hearing and finding go on.
    await sweep_deadlines(worker_ctx(sessionmaker))
    again = await read_case(review_api, overdue, member)
    assert [e["to_state"] for e in again["history"]].count("reply_window_lapsed") == 1
    late = await act(review_api, overdue, "reply", member, REPLY)
    assert late.status_code == 409
    assert (await act(review_api, overdue, "hearing", member, HEARING)).status_code == 200
    assert (await determine(review_api, overdue, member)).status_code == 200


async def test_a_lapse_is_announced_to_the_portal(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=1)
    case_id = await open_report_case(sessionmaker, department=department)
    await take_case_to(review_api, case_id, unit.members[0], "notice_issued")
    await reply_due_on(sessionmaker, case_id, days_ago=30)

    await sweep_deadlines(worker_ctx(sessionmaker))

    statuses = await announced_statuses(sessionmaker, case_id)
    assert statuses == ["assigned", "notice_issued", "reply_window_lapsed"]


async def test_a_lapse_never_announces_a_status_outside_the_contract(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=1)
    case_id = await open_report_case(sessionmaker, department=department)
    await take_case_to(review_api, case_id, unit.members[0], "notice_issued")
    await reply_due_on(sessionmaker, case_id, days_ago=30)

    await sweep_deadlines(worker_ctx(sessionmaker))

    assert (await case_row(sessionmaker, case_id))["state"] == "reply_window_lapsed"
    assert set(await announced_statuses(sessionmaker, case_id)) <= CONTRACT_STATUSES


async def test_a_case_untouched_past_its_stage_deadline_is_escalated_once_per_stage(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    stalled, fresh = [await open_report_case(sessionmaker, department=department) for _ in range(2)]
    member = await assignee_of(unit, stalled, review_api)
    await untouched_since(sessionmaker, stalled)

    await sweep_deadlines(worker_ctx(sessionmaker))

    assert await escalated_ids(review_api, unit) == {str(stalled)}
    assert str(stalled) not in await escalated_ids(review_api, unit, escalated="false")
    assert str(fresh) in await escalated_ids(review_api, unit, escalated="false")
    case = await read_case(review_api, stalled, unit.chair)
    assert case["escalated_at"] is not None
    event = case["history"][-1]
    assert event["from_state"] == event["to_state"] == "assigned"
    assert event["reason"].startswith("escalated to the chair")
    assert "3 working days" in event["reason"]
    # The member sees the flag on their own case too.
    mine = await review_api.get("/v1/cases?escalated=true", headers=member.headers)
    assert {item["id"] for item in mine.json()["items"]} == {str(stalled)}

    # Another run, still untouched: escalated once.
    await sweep_deadlines(worker_ctx(sessionmaker))
    assert await escalations(sessionmaker, stalled) == ["assigned"]
    history = (await read_case(review_api, stalled, unit.chair))["history"]
    assert sum(e["reason"].startswith("escalated") for e in history) == 1

    # The member acts: the flag clears; a stall at a later stage is escalated afresh.
    await take_case_to(review_api, stalled, member, "reply_received")
    assert await escalated_ids(review_api, unit) == set()
    await untouched_since(sessionmaker, stalled)
    await sweep_deadlines(worker_ctx(sessionmaker))
    assert await escalated_ids(review_api, unit) == {str(stalled)}
    assert await escalations(sessionmaker, stalled) == ["assigned", "reply_received"]

    # Bad input to the filter.
    refused = await review_api.get("/v1/cases?escalated=maybe", headers=unit.chair.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "escalated"


async def test_stage_deadlines_come_from_the_settings(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    # Twenty calendar days is at least fourteen working days: past the default three days for
    # an assigned case, within a deadline of thirty.
    await untouched_since(sessionmaker, case_id, datetime.now(UTC) - timedelta(days=20))

    patient = ReviewSettings(assigned_deadline_working_days=30)
    await sweep_deadlines(worker_ctx(sessionmaker, patient))
    assert await escalated_ids(review_api, unit) == set()

    await sweep_deadlines(worker_ctx(sessionmaker))
    assert await escalated_ids(review_api, unit) == {str(case_id)}


async def test_sweeps_running_at_once_move_and_escalate_each_case_once(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=3)
    lapsing = [await open_report_case(sessionmaker, department=department) for _ in range(6)]
    stalled = [await open_report_case(sessionmaker, department=department) for _ in range(6)]
    for case_id in lapsing:
        member = await assignee_of(unit, case_id, review_api)
        await take_case_to(review_api, case_id, member, "notice_issued")
        await reply_due_on(sessionmaker, case_id, days_ago=30)
    for case_id in stalled:
        await untouched_since(sessionmaker, case_id)

    await asyncio.gather(*(sweep_deadlines(worker_ctx(sessionmaker)) for _ in range(4)))

    for case_id in lapsing:
        history = (await read_case(review_api, case_id, unit.chair))["history"]
        assert [e["to_state"] for e in history].count("reply_window_lapsed") == 1
    for case_id in stalled:
        assert await escalations(sessionmaker, case_id) == ["assigned"]
        history = (await read_case(review_api, case_id, unit.chair))["history"]
        assert sum(e["reason"].startswith("escalated") for e in history) == 1


async def test_the_sweep_hands_waiting_cases_to_a_member_who_became_eligible(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=1)
    member = unit.members[0]
    on_leave = await review_api.post(
        f"/v1/units/{unit.id}/members/{member.id}/leave", headers=unit.chair.headers
    )
    assert on_leave.status_code == 200
    waiting = await open_report_case(sessionmaker, department=department)
    conflicted = await open_report_case(
        sessionmaker, department=department, subject_office=member.office
    )
    # Back by a route that skips the service (an operator's fix in the database): only the
    # sweep will notice.
    await execute(
        sessionmaker, "UPDATE review.member SET on_leave = false WHERE id = :id", id=member.id
    )
    assert (await case_row(sessionmaker, waiting))["assignee_id"] is None

    await sweep_waiting_cases(worker_ctx(sessionmaker))

    row = await case_row(sessionmaker, waiting)
    assert (row["state"], row["assignee_id"]) == ("assigned", member.id)
    assert await announced_statuses(sessionmaker, waiting) == ["assigned"]
    history = (await read_case(review_api, waiting, member))["history"]
    assert history[-1]["reason"] == (
        f"assigned to member {member.id} from the unit's queue by the load rule"
    )
    # The member works in the subject's office: that case keeps waiting, sweep after sweep.
    await sweep_waiting_cases(worker_ctx(sessionmaker))
    row = await case_row(sessionmaker, conflicted)
    assert (row["state"], row["assignee_id"]) == ("received", None)
