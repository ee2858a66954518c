"""Members leave and return, over HTTP: the chair sees the unit's members and their loads,
deactivates a member or puts one on leave, and the member's open cases follow the load rule to
colleagues (or back to the unit's queue), on each case's history; when someone becomes
eligible, the waiting cases are assigned at once, oldest first."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.units.models import MonitoringUnit
from services.review.units.service import add_member
from shared.db import unit_of_work
from tests.factories import (
    SeededMember,
    SeededUnit,
    create_unit_with_members,
    open_report_case,
    unique_code,
)
from tests.review.steps import (
    NOTICE,
    act,
    announced_statuses,
    assignee_of,
    case_row,
    read_case,
    screen_to_proceed,
)

pytestmark = pytest.mark.usefixtures("catalogue")


def members_url(unit: SeededUnit, member: SeededMember | None = None, action: str = "") -> str:
    url = f"/v1/units/{unit.id}/members"
    return f"{url}/{member.id}/{action}" if member else url


async def deactivate(
    review_api: httpx.AsyncClient, unit: SeededUnit, member: SeededMember, reason: str = "Retired"
) -> httpx.Response:
    return await review_api.post(
        members_url(unit, member, "deactivation"),
        json={"reason": reason},
        headers=unit.chair.headers,
    )


async def loads(review_api: httpx.AsyncClient, unit: SeededUnit) -> dict[uuid.UUID, int]:
    listed = await review_api.get(members_url(unit), headers=unit.chair.headers)
    assert listed.status_code == 200, listed.text
    return {uuid.UUID(item["id"]): item["open_cases"] for item in listed.json()["items"]}


def last_event(case: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = case["history"][-1]
    return event


async def test_the_chair_lists_the_members_with_their_open_cases(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    cases = [await open_report_case(sessionmaker, department=department) for _ in range(3)]

    listed = (await review_api.get(members_url(unit), headers=unit.chair.headers)).json()["items"]
    assert {item["id"] for item in listed} == {str(m.id) for m in [unit.chair, *unit.members]}
    assert all(item["active"] and not item["on_leave"] for item in listed)
    assert sorted((await loads(review_api, unit)).values()) == [0, 1, 2]

    # A finished case no longer counts.
    holder = await assignee_of(unit, cases[0], review_api)
    before = (await loads(review_api, unit))[holder.id]
    dismissed = await act(review_api, cases[0], "dismissal", holder, {"reasons": "No case."})
    assert dismissed.status_code == 200
    assert (await loads(review_api, unit))[holder.id] == before - 1


async def test_only_the_units_own_chair_may_see_or_change_its_members(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    other = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    target = unit.members[0]

    # A member of the unit who is not its chair: 403, naming the rule.
    member = unit.members[1]
    for method, url, body in (
        ("GET", members_url(unit), None),
        ("POST", members_url(unit, target, "deactivation"), {"reason": "x"}),
        ("POST", members_url(unit, target, "leave"), None),
        ("DELETE", members_url(unit, target, "leave"), None),
    ):
        refused = await review_api.request(method, url, json=body, headers=member.headers)
        assert refused.status_code == 403, (method, url, refused.text)
        assert refused.json()["code"] == "not-chair"

    # Another unit's chair or member: 404, as if the unit did not exist.
    for outsider in (other.chair, other.members[0]):
        assert (
            await review_api.get(members_url(unit), headers=outsider.headers)
        ).status_code == 404
        refused = await review_api.post(
            members_url(unit, target, "deactivation"),
            json={"reason": "x"},
            headers=outsider.headers,
        )
        assert refused.status_code == 404 and refused.json()["code"] == "unit-not-found"

    # The chair, about another unit's member or someone who does not exist: 404.
    for stranger_id in (other.members[0].id, uuid.uuid4()):
        refused = await review_api.post(
            f"/v1/units/{unit.id}/members/{stranger_id}/leave", headers=unit.chair.headers
        )
        assert refused.status_code == 404 and refused.json()["code"] == "member-not-found"

    # No credential, or ids that are not ids.
    assert (await review_api.get(members_url(unit))).status_code == 401
    assert (
        await review_api.get("/v1/units/not-a-unit/members", headers=unit.chair.headers)
    ).status_code == 422
    # Nothing changed for the member everyone tried to touch.
    listed = {item["id"]: item for item in (await loads_items(review_api, unit))}
    assert listed[str(target.id)]["active"] and not listed[str(target.id)]["on_leave"]


async def loads_items(review_api: httpx.AsyncClient, unit: SeededUnit) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await review_api.get(members_url(unit), headers=unit.chair.headers)
    ).json()["items"]
    return items


async def test_deactivating_a_member_hands_their_open_cases_to_colleagues(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=3)
    case_ids = [await open_report_case(sessionmaker, department=department) for _ in range(6)]
    holders = {case_id: await assignee_of(unit, case_id, review_api) for case_id in case_ids}
    leaving = holders[case_ids[0]]
    their_cases = [case_id for case_id, holder in holders.items() if holder == leaving]
    assert len(their_cases) == 2
    # One of them is mid-procedure: the portal already heard "notice_issued".
    noticed = their_cases[0]
    await screen_to_proceed(review_api, noticed, leaving)
    assert (await act(review_api, noticed, "notice", leaving, NOTICE)).status_code == 200
    announced_before = await announced_statuses(sessionmaker, noticed)

    response = await deactivate(review_api, unit, leaving, reason="Transferred to another post")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["member"]["active"] is False and body["member"]["open_cases"] == 0
    handovers = {uuid.UUID(h["case_id"]): h for h in body["handovers"]}
    assert set(handovers) == set(their_cases)
    colleagues = {m.id: m for m in unit.members if m != leaving}
    for case_id in their_cases:
        handover = handovers[case_id]
        successor = colleagues[uuid.UUID(handover["to_member_id"])]
        assert handover["from_member_id"] == str(leaving.id)
        case = await read_case(review_api, case_id, successor)
        assert case["assignee_id"] == str(successor.id)
        event = last_event(case)
        assert event["from_state"] == event["to_state"] == case["state"]
        assert str(leaving.id) in event["reason"] and str(successor.id) in event["reason"]
        assert event["actor_member_id"] == str(unit.chair.id)
        # The chair's reason stays off the case: everyone working it reads its history.
        assert "Transferred" not in event["reason"]
    # The load rule: the two colleagues held two each, so one case went to each.
    after = await loads(review_api, unit)
    assert [after[m] for m in colleagues] == [3, 3]
    # The case mid-procedure kept its state and the portal's status did not move back.
    assert (await case_row(sessionmaker, noticed))["state"] == "notice_issued"
    assert await announced_statuses(sessionmaker, noticed) == announced_before
    # The deactivated member's credential no longer works.
    assert (await review_api.get("/v1/cases", headers=leaving.headers)).status_code == 401

    # Bad input, refused and changing nothing: no reason, a blank one, a field the server owns,
    # deactivating twice, and the chair deactivating themself.
    target = next(iter(colleagues.values()))
    for bad, field in (
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "active": True}, "active"),
    ):
        refused = await review_api.post(
            members_url(unit, target, "deactivation"), json=bad, headers=unit.chair.headers
        )
        assert refused.status_code == 422
        assert field in {error["field"] for error in refused.json()["errors"]}
    again = await deactivate(review_api, unit, leaving)
    assert again.status_code == 409 and again.json()["code"] == "member-standing"
    themself = await deactivate(review_api, unit, unit.chair)
    assert themself.status_code == 409
    assert all(
        item["active"]
        for item in await loads_items(review_api, unit)
        if item["id"] != str(leaving.id)
    )


async def test_with_nobody_eligible_cases_go_back_to_the_queue_and_return_with_the_member(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=1)
    member = unit.members[0]
    first, second = [await open_report_case(sessionmaker, department=department) for _ in range(2)]
    await screen_to_proceed(review_api, second, member)
    assert (await act(review_api, second, "notice", member, NOTICE)).status_code == 200
    announced_before = await announced_statuses(sessionmaker, second)

    on_leave = await review_api.post(
        members_url(unit, member, "leave"),
        json={"reason": "Hajj leave"},
        headers=unit.chair.headers,
    )

    assert on_leave.status_code == 200, on_leave.text
    assert on_leave.json()["member"]["on_leave"] is True
    assert [(h["case_id"], h["to_member_id"]) for h in on_leave.json()["handovers"]] == [
        (str(first), None),
        (str(second), None),
    ]
    # The chair sees both waiting in the unit's queue, each where its procedure stood.
    queue = {
        item["id"]: item
        for item in (await review_api.get("/v1/cases", headers=unit.chair.headers)).json()["items"]
    }
    assert queue[str(first)]["assignee_id"] is None and queue[str(first)]["state"] == "assigned"
    assert queue[str(second)]["assignee_id"] is None
    assert queue[str(second)]["state"] == "notice_issued"
    event = last_event(await read_case(review_api, second, unit.chair))
    assert str(member.id) in event["reason"] and "queue" in event["reason"]
    # On leave, the member still signs in but holds nothing; a new case waits too.
    assert (await review_api.get("/v1/cases", headers=member.headers)).json()["items"] == []
    third = await open_report_case(sessionmaker, department=department)
    assert (await case_row(sessionmaker, third))["assignee_id"] is None
    again = await review_api.post(members_url(unit, member, "leave"), headers=unit.chair.headers)
    assert again.status_code == 409 and again.json()["code"] == "member-standing"

    back = await review_api.delete(members_url(unit, member, "leave"), headers=unit.chair.headers)

    assert back.status_code == 200, back.text
    assert back.json()["member"]["on_leave"] is False
    # Oldest first, all back with the member; the new one is now assigned and announced.
    assert [(h["case_id"], h["to_member_id"]) for h in back.json()["handovers"]] == [
        (str(first), str(member.id)),
        (str(second), str(member.id)),
        (str(third), str(member.id)),
    ]
    assert back.json()["member"]["open_cases"] == 3
    assert (await case_row(sessionmaker, third))["state"] == "assigned"
    assert await announced_statuses(sessionmaker, third) == ["assigned"]
    assert await announced_statuses(sessionmaker, second) == announced_before
    twice = await review_api.delete(members_url(unit, member, "leave"), headers=unit.chair.headers)
    assert twice.status_code == 409


async def test_a_deactivated_member_cannot_go_on_leave_or_return(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    member = unit.members[0]
    assert (await deactivate(review_api, unit, member)).status_code == 200
    for method in ("POST", "DELETE"):
        refused = await review_api.request(
            method, members_url(unit, member, "leave"), headers=unit.chair.headers
        )
        assert refused.status_code == 409 and "deactivated" in refused.json()["detail"]


async def test_a_new_member_takes_the_waiting_cases_they_may_work(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=0)
    waiting = [await open_report_case(sessionmaker, department=department) for _ in range(2)]
    conflicted = await open_report_case(
        sessionmaker, department=department, subject_office="IT Wing"
    )
    for case_id in waiting:
        assert (await case_row(sessionmaker, case_id))["state"] == "received"

    async with unit_of_work(sessionmaker) as session:
        unit_row = await session.get(MonitoringUnit, unit.id)
        assert unit_row is not None
        newcomer = await add_member(
            session,
            unit=unit_row,
            name="New Member",
            employee_ref=f"EMP-{uuid.uuid4().hex[:6]}",
            office="IT Wing",
            role="member",
        )

    for case_id in waiting:
        row = await case_row(sessionmaker, case_id)
        assert (row["state"], row["assignee_id"]) == ("assigned", newcomer.id)
        assert await announced_statuses(sessionmaker, case_id) == ["assigned"]
    # The subject works in the newcomer's own office: that case keeps waiting.
    row = await case_row(sessionmaker, conflicted)
    assert (row["state"], row["assignee_id"]) == ("received", None)
