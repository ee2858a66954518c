"""The hearing over HTTP: held (date, attendees, minutes) or waived, only by the assignee, only
after the reply is in (or its window closed) and only once; the determination waits for it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.review.steps import (
    HEARING,
    NOTICE,
    REPLY,
    act,
    assigned_case,
    assignee_of,
    determine,
    read_case,
    screen_to_proceed,
    take_case_to,
)

pytestmark = pytest.mark.usefixtures("catalogue")


def held(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "held_on": date.today().isoformat(),
        "attendees": ["Kamran Yousaf (employee)", "Bilal Ahmed (member)"],
        "minutes": "The employee explained the post and apologised.",
    }
    body.update(overrides)
    return body


async def test_the_determination_waits_for_a_hearing_held_or_waived(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, member, "reply_received")

    early = await determine(review_api, case_id, member)
    assert early.status_code == 409
    assert "hearing held or waived" in early.json()["detail"]

    recorded = await act(review_api, case_id, "hearing", member, held())

    assert recorded.status_code == 200, recorded.text
    case = recorded.json()
    assert case["state"] == "hearing_concluded"
    assert case["hearing"]["outcome"] == "held"
    assert case["hearing"]["attendees"] == ["Kamran Yousaf (employee)", "Bilal Ahmed (member)"]
    assert case["hearing"]["recorded_by"] == str(member.id)
    assert case["history"][-1]["from_state"] == "reply_received"
    assert "hearing held on" in case["history"][-1]["reason"]
    determined = await determine(review_api, case_id, member)
    assert determined.status_code == 200, determined.text
    assert determined.json()["hearing"]["outcome"] == "held"


async def test_a_waived_hearing_keeps_the_employees_reason(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, member, "reply_received")

    waived = await act(
        review_api, case_id, "hearing", member, {"waived": True, "reason": "Written reply only."}
    )

    assert waived.status_code == 200, waived.text
    hearing = waived.json()["hearing"]
    assert (hearing["outcome"], hearing["waiver_reason"]) == ("waived", "Written reply only.")
    assert hearing["held_on"] is None and hearing["attendees"] == []
    assert "Written reply only." in waived.json()["history"][-1]["reason"]


async def test_a_hearing_comes_after_the_reply_and_only_once(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)

    await screen_to_proceed(review_api, case_id, member)
    for step, body in (("notice", NOTICE), ("reply", REPLY)):
        early = await act(review_api, case_id, "hearing", member, HEARING)
        assert early.status_code == 409, early.text
        assert "reply must have been received" in early.json()["detail"]
        assert (await act(review_api, case_id, step, member, body)).status_code == 200
    assert (await act(review_api, case_id, "hearing", member, HEARING)).status_code == 200
    for again in (HEARING, held()):
        refused = await act(review_api, case_id, "hearing", member, again)
        assert refused.status_code == 409 and refused.json()["code"] == "illegal-transition"
    case = await read_case(review_api, case_id, member)
    assert case["hearing"]["outcome"] == "waived"
    assert [e["to_state"] for e in case["history"]].count("hearing_concluded") == 1


async def test_a_hearing_is_either_held_or_waived_as_its_fields_say(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, member, "reply_received")
    tomorrow_anywhere = (date.today() + timedelta(days=2)).isoformat()
    before_the_notice = (date.today() - timedelta(days=3)).isoformat()

    for bad, fields in (
        ({}, {"held_on", "attendees", "minutes"}),
        ({"waived": True}, {"reason"}),
        ({"waived": False, "reason": "No."}, {"waived"}),
        ({**held(), "waived": True, "reason": "Both?"}, {"held_on", "attendees", "minutes"}),
        (held(reason="Held, with a waiver reason"), {"reason"}),
        (held(minutes=None), {"minutes"}),
        (held(minutes="   "), {"minutes"}),
        (held(attendees=[]), {"attendees"}),
        (held(attendees=["Kamran", " "]), {"attendees.1"}),
        (held(held_on="last Tuesday"), {"held_on"}),
        (held(held_on=tomorrow_anywhere), {"held_on"}),
        (held(held_on=before_the_notice), {"held_on"}),
        (held(outcome="held"), {"outcome"}),
    ):
        refused = await act(review_api, case_id, "hearing", member, bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert {error["field"] for error in refused.json()["errors"]} == fields, bad
    case = await read_case(review_api, case_id, member)
    assert case["state"] == "reply_received" and case["hearing"] is None


async def test_only_the_assignee_records_the_hearing(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    stranger = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    case_id = await open_report_case(sessionmaker, department=department)
    member = await assignee_of(unit, case_id, review_api)
    colleague = next(m for m in unit.members if m != member)
    await take_case_to(review_api, case_id, member, "reply_received")

    refused = await act(review_api, case_id, "hearing", unit.chair, HEARING)
    assert refused.status_code == 403 and refused.json()["code"] == "not-assignee"
    for outsider in (colleague, stranger.chair, stranger.members[0]):
        assert (await act(review_api, case_id, "hearing", outsider, HEARING)).status_code == 404
    assert (await act(review_api, uuid.uuid4(), "hearing", member, HEARING)).status_code == 404
    assert (await read_case(review_api, case_id, member))["hearing"] is None
