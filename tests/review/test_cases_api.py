"""The case endpoints over HTTP: who may see and act on a case, the gates of the procedure,
separation of duties, and assignment that honours conflicts of interest."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.review.steps import (
    HEARING,
    NOTICE,
    REPLY,
    SCREEN,
    act,
    assigned_case,
    assignee_of,
    determination_body,
    determine,
    screen_to_proceed,
)

pytestmark = pytest.mark.usefixtures("catalogue")


async def test_only_the_assignee_and_the_chair_see_a_case(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    stranger_unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    case_id = await open_report_case(sessionmaker, department=department)
    assignee = await assignee_of(unit, case_id, review_api)
    colleague = next(m for m in unit.members if m != assignee)

    assert (
        await review_api.get(f"/v1/cases/{case_id}", headers=unit.chair.headers)
    ).status_code == 200
    for outsider in (colleague, stranger_unit.chair, stranger_unit.members[0]):
        response = await review_api.get(f"/v1/cases/{case_id}", headers=outsider.headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await act(review_api, case_id, "notice", outsider, NOTICE)).status_code == 404
        listed = (await review_api.get("/v1/cases", headers=outsider.headers)).json()["items"]
        assert str(case_id) not in {item["id"] for item in listed}


async def test_steps_out_of_order_are_refused_with_409_and_change_nothing(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)

    violation = await determination_body(review_api, f"/v1/cases/{case_id}", member.headers)
    for step, body in (
        ("reply", REPLY),
        ("hearing", HEARING),
        ("determination", violation),
        ("countersign", None),
    ):
        actor = unit.chair if step == "countersign" else member
        response = await act(review_api, case_id, step, actor, body)
        assert response.status_code == 409, (step, response.text)
        assert response.json()["code"] == "illegal-transition"
    case = (await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)).json()
    assert case["state"] == "assigned"
    moves = [
        event["to_state"] for event in case["history"] if event["from_state"] != event["to_state"]
    ]
    assert moves == ["received", "assigned"]

    await screen_to_proceed(review_api, case_id, member)
    assert (await act(review_api, case_id, "notice", member, NOTICE)).status_code == 200
    assert (await act(review_api, case_id, "notice", member, NOTICE)).status_code == 409
    assert (
        await act(review_api, case_id, "dismissal", member, {"reasons": "late"})
    ).status_code == 409


async def test_the_chair_cannot_act_for_the_assignee_and_members_cannot_countersign(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)

    refused = await act(review_api, case_id, "notice", unit.chair, NOTICE)
    assert refused.status_code == 403 and refused.json()["code"] == "not-assignee"
    for step, body in (
        ("screen", SCREEN),
        ("notice", NOTICE),
        ("reply", REPLY),
        ("hearing", HEARING),
    ):
        assert (await act(review_api, case_id, step, member, body)).status_code == 200
    assert (await determine(review_api, case_id, member)).status_code == 200
    refused = await act(review_api, case_id, "countersign", member)
    assert refused.status_code == 403 and refused.json()["code"] == "not-chair"
    assert (await act(review_api, case_id, "countersign", unit.chair)).status_code == 200
    again = await act(review_api, case_id, "countersign", unit.chair)
    assert again.status_code == 409


async def test_a_determination_must_find_on_each_charge(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The old whole-case form (a finding and the rules cited, no finding per charge) is
    refused, and so is any body that is not a finding on each charge; nothing is recorded."""
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    for step, body in (
        ("screen", SCREEN),
        ("notice", NOTICE),
        ("reply", REPLY),
        ("hearing", HEARING),
    ):
        assert (await act(review_api, case_id, step, member, body)).status_code == 200
    violation = await determination_body(review_api, f"/v1/cases/{case_id}", member.headers)

    whole_case = {"finding": "violation", "rules_cited": ["CR1964-22"], "reasons": "Embarrassing."}
    response = await act(review_api, case_id, "determination", member, whole_case)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"charges", "rules_cited"} <= {error["field"] for error in response.json()["errors"]}
    for bad, field in (
        ({**violation, "finding": "guilty"}, "finding"),
        ({**violation, "charges": []}, "charges"),
        ({key: value for key, value in violation.items() if key != "reasons"}, "reasons"),
        ({**violation, "countersigned_by": str(uuid.uuid4())}, "countersigned_by"),
    ):
        response = await act(review_api, case_id, "determination", member, bad)
        assert response.status_code == 422
        assert field in {error["field"] for error in response.json()["errors"]}
    case = (await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)).json()
    assert case["state"] == "hearing_concluded" and case["determination"] is None


async def test_a_cleared_finding_is_final_without_countersignature(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    for step, body in (
        ("screen", SCREEN),
        ("notice", NOTICE),
        ("reply", REPLY),
        ("hearing", HEARING),
    ):
        assert (await act(review_api, case_id, step, member, body)).status_code == 200
    cleared = await determine(
        review_api, case_id, member, finding="cleared", reasons="Not his post."
    )
    assert cleared.json()["determination"]["final"] is True


async def test_conflicted_members_are_never_assigned(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(
        sessionmaker,
        jurisdiction=[department],
        member_count=3,
        member_offices=["Complaints Cell", "District Headquarters Hospital", "IT Wing"],
    )
    for _ in range(3):
        case_id = await open_report_case(sessionmaker, department=department)
        assert (await assignee_of(unit, case_id, review_api)).office == "IT Wing"
    # The subject themself is never their own investigator either.
    it_member = unit.members[2]
    case_id = await open_report_case(
        sessionmaker, department=department, subject_employee_ref=it_member.employee_ref
    )
    async with sessionmaker() as session:
        state = (
            await session.execute(
                text("SELECT state FROM review.case WHERE id = :id"), {"id": case_id}
            )
        ).scalar_one()
    assert state == "received"  # waits in the unit's queue: nobody eligible
    waiting = (await review_api.get("/v1/cases", headers=unit.chair.headers)).json()["items"]
    assert str(case_id) in {item["id"] for item in waiting}


async def test_load_is_spread_evenly(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=3)
    for _ in range(7):
        await open_report_case(sessionmaker, department=department)
    loads = sorted(
        [
            len((await review_api.get("/v1/cases", headers=m.headers)).json()["items"])
            for m in unit.members
        ]
    )
    assert loads == [2, 2, 3]
