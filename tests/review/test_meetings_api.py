"""A unit's meetings and its periodic summary over HTTP: the chair or secretary records a
meeting of this unit's members, every member reads them, other units see nothing; the summary
counts what the unit received, determined and dismissed in a range and what is pending now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.intake.support import assert_problem
from tests.review.steps import act, assignee_of, take_case_to

pytestmark = pytest.mark.usefixtures("catalogue")

Sessionmaker = async_sessionmaker[AsyncSession]


def meeting(attendees: list[uuid.UUID], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "held_on": datetime.now(UTC).date().isoformat(),
        "attendee_ids": [str(attendee) for attendee in attendees],
        "guests": ["Deputy Secretary (Law), observer"],
        "agenda": "Monthly review of pending cases; the new notification's instructions.",
        "decisions": ["Pending hearings to be fixed within ten days."],
    }
    body.update(overrides)
    return body


async def test_the_chair_records_a_meeting_and_every_member_reads_it(
    review_api: httpx.AsyncClient, sessionmaker: Sessionmaker
) -> None:
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    other = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    path = f"/v1/units/{unit.id}/meetings"
    present = [unit.chair.id, unit.members[0].id]
    recorded = await review_api.post(path, json=meeting(present), headers=unit.chair.headers)
    assert recorded.status_code == 201, recorded.text
    minutes = recorded.json()
    assert [attendee["id"] for attendee in minutes["attendees"]] == [str(m) for m in present]
    assert minutes["recorded_by"] == str(unit.chair.id)

    listed = await review_api.get(path, headers=unit.members[1].headers)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [minutes["id"]]
    # Another unit's chair: no such unit for them.
    assert_problem(await review_api.get(path, headers=other.chair.headers), 404)
    assert_problem(
        await review_api.post(path, json=meeting(present), headers=other.chair.headers), 404
    )


async def test_bad_minutes_are_refused_and_store_nothing(
    review_api: httpx.AsyncClient, sessionmaker: Sessionmaker
) -> None:
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    other = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    path = f"/v1/units/{unit.id}/meetings"
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    tried: list[tuple[dict[str, Any], str]] = [
        (meeting([other.chair.id]), "attendee_ids.0"),  # a member of another unit
        (meeting([unit.chair.id, unit.chair.id]), "attendee_ids"),  # the same member twice
        (meeting([unit.chair.id], held_on=tomorrow), "held_on"),  # a meeting yet to come
        (meeting([]), "attendee_ids"),  # nobody present
        (meeting([unit.chair.id], agenda="  "), "agenda"),  # no agenda
        (meeting([unit.chair.id], id=str(uuid.uuid4())), "id"),  # a server-owned field
    ]
    for body, field in tried:
        problem = assert_problem(
            await review_api.post(path, json=body, headers=unit.chair.headers), 422
        )
        assert field in {error["field"] for error in problem["errors"]}, (field, problem)
    # A member who is neither chair nor secretary may read but not record.
    refused = await review_api.post(
        path, json=meeting([unit.chair.id]), headers=unit.members[0].headers
    )
    assert assert_problem(refused, 403)["code"] == "not-unit-officer"
    listed = await review_api.get(path, headers=unit.chair.headers)
    assert listed.json()["items"] == []


async def test_the_summary_counts_the_units_work_in_the_range(
    review_api: httpx.AsyncClient, sessionmaker: Sessionmaker
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    determined, dismissed, pending = [
        await open_report_case(sessionmaker, department=department) for _ in range(3)
    ]
    investigator = await assignee_of(unit, determined, review_api)
    await take_case_to(review_api, determined, investigator, "determined")
    dismisser = await assignee_of(unit, dismissed, review_api)
    answer = await act(
        review_api, dismissed, "dismissal", dismisser, {"reasons": "No case to answer."}
    )
    assert answer.status_code == 200, answer.text
    await review_api.post(
        f"/v1/units/{unit.id}/meetings",
        json=meeting([unit.chair.id]),
        headers=unit.chair.headers,
    )
    today = datetime.now(UTC).date()
    path = f"/v1/units/{unit.id}/summary"
    range_ = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}

    summary = await review_api.get(path, params=range_, headers=unit.chair.headers)
    assert summary.status_code == 200, summary.text
    figures = summary.json()
    assert (figures["received"], figures["determined"], figures["dismissed"]) == (3, 1, 1)
    assert figures["pending_by_stage"] == {"assigned": 1, "determined": 1}
    assert figures["outcomes_by_rule"] == {"CR1964-22": {"violation": 1, "cleared": 0}}
    assert figures["median_working_days_to_determination"] == 0
    assert figures["meetings"] == 1
    assert (figures["from"], figures["to"]) == (range_["from"], range_["to"])
    assert pending  # opened in the range, still with its member

    earlier = {"from": "2020-01-01", "to": "2020-01-31"}
    before = (await review_api.get(path, params=earlier, headers=unit.chair.headers)).json()
    assert (before["received"], before["determined"], before["meetings"]) == (0, 0, 0)
    # Pending and overdue are as of now, whatever the range.
    assert before["pending_by_stage"] == figures["pending_by_stage"]

    # Tried: a range ending before it starts, a missing bound, a non-date.
    reversed_range = {"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()}
    for params, field in (
        (reversed_range, "to"),
        ({"to": today.isoformat()}, "from"),
        ({"from": "yesterday", "to": today.isoformat()}, "from"),
    ):
        problem = assert_problem(
            await review_api.get(path, params=params, headers=unit.chair.headers), 422
        )
        assert any(error["field"].endswith(field) for error in problem["errors"]), problem
    assert_problem(await review_api.get(path, params=range_, headers=investigator.headers), 403)
