"""Extensions of the reply window over HTTP: the assigned member asks with a reason and working
days; only the chair of the case's unit approves or refuses (403 naming the rule for anyone
else); an approved extension moves the reply date in working days, public holidays skipped;
the lapse sweep respects the new date, and leaves a window alone while a request made in time
awaits the chair."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.app import create_app
from services.review.cases.deadlines import add_working_days
from services.review.cases.tasks import sweep_deadlines
from services.review.settings import ReviewSettings, current_settings
from tests.factories import SeededMember, create_unit_with_members, open_report_case, unique_code
from tests.review.steps import (
    assigned_case,
    assignee_of,
    execute,
    read_case,
    take_case_to,
    worker_ctx,
)
from tests.support import api_client

pytestmark = pytest.mark.usefixtures("catalogue")

ASK = {"reason": "The employee is on medical leave.", "working_days": 5}
APPROVE = {"decision": "approved", "reason": "Medical certificate on file."}
REFUSE = {"decision": "refused", "reason": "Leave ends before the window closes."}


async def ask(
    review_api: httpx.AsyncClient, case_id: uuid.UUID, member: SeededMember, body: Any = ASK
) -> httpx.Response:
    return await review_api.post(
        f"/v1/cases/{case_id}/extensions", json=body, headers=member.headers
    )


async def decide(
    review_api: httpx.AsyncClient,
    case_id: uuid.UUID,
    extension_id: str,
    member: SeededMember,
    body: dict[str, Any],
) -> httpx.Response:
    return await review_api.post(
        f"/v1/cases/{case_id}/extensions/{extension_id}/decision", json=body, headers=member.headers
    )


async def due_on(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID, day: date
) -> None:
    await execute(
        sessionmaker,
        "UPDATE review.notice SET reply_due_on = :due WHERE case_id = :id",
        due=day,
        id=case_id,
    )


async def test_only_the_chair_decides_and_an_approval_moves_the_reply_date(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, member, "notice_issued")
    due_before = (await read_case(review_api, case_id, member))["notice"]["reply_due_on"]

    asked = await ask(review_api, case_id, member)
    assert asked.status_code == 201, asked.text
    extension = asked.json()
    assert extension["status"] == "requested" and extension["requested_via"] == "member"
    assert extension["requested_by"] == str(member.id)
    # One request at a time awaits the chair.
    assert (await ask(review_api, case_id, member)).status_code == 409

    for someone in (member, *[m for m in unit.members if m != member]):
        refused = await decide(review_api, case_id, extension["id"], someone, APPROVE)
        assert refused.status_code in (403, 404), refused.text
        if refused.status_code == 403:
            assert refused.json()["code"] == "not-chair"
            assert "chair's approval" in refused.json()["detail"]
    other_unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    foreign = await decide(review_api, case_id, extension["id"], other_unit.chair, APPROVE)
    assert foreign.status_code == 404
    assert (await read_case(review_api, case_id, member))["notice"]["reply_due_on"] == due_before

    approved = await decide(review_api, case_id, extension["id"], unit.chair, APPROVE)
    assert approved.status_code == 200, approved.text
    start = max(date.fromisoformat(due_before), datetime.now(UTC).date())
    assert approved.json()["due_after"] == add_working_days(start, 5).isoformat()
    assert approved.json()["decided_by"] == str(unit.chair.id)
    case = await read_case(review_api, case_id, member)
    assert case["notice"]["reply_due_on"] == approved.json()["due_after"]
    assert case["extensions"][0]["status"] == "approved"
    assert "extension approved by the chair" in case["history"][-1]["reason"]
    # Decided once.
    again = await decide(review_api, case_id, extension["id"], unit.chair, REFUSE)
    assert again.status_code == 409 and again.json()["code"] == "extension-not-open"


async def test_an_approved_extension_skips_public_holidays(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    today = datetime.now(UTC).date()
    holidays = frozenset(today + timedelta(days=n) for n in range(1, 60, 3))
    settings = ReviewSettings(public_holidays=holidays)
    app = create_app()
    app.dependency_overrides[current_settings] = lambda: settings
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    async with api_client(app) as review_api:
        member = await assignee_of(unit, case_id, review_api)
        await take_case_to(review_api, case_id, member, "notice_issued")
        due = date.fromisoformat(
            (await read_case(review_api, case_id, member))["notice"]["reply_due_on"]
        )
        extension = (await ask(review_api, case_id, member)).json()
        approved = await decide(review_api, case_id, extension["id"], unit.chair, APPROVE)
    assert approved.status_code == 200, approved.text
    assert approved.json()["due_after"] == add_working_days(due, 5, holidays=holidays).isoformat()
    assert approved.json()["due_after"] != add_working_days(due, 5).isoformat()


async def test_the_lapse_sweep_respects_an_extension(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, member, "notice_issued")
    ctx = worker_ctx(sessionmaker)
    extension = (await ask(review_api, case_id, member)).json()
    # The window's last day passes while the chair has not decided: it stays open.
    await due_on(sessionmaker, case_id, datetime.now(UTC).date() - timedelta(days=3))
    await sweep_deadlines(ctx)
    assert (await read_case(review_api, case_id, member))["state"] == "notice_issued"

    approved = await decide(review_api, case_id, extension["id"], unit.chair, APPROVE)
    assert approved.status_code == 200, approved.text
    await sweep_deadlines(ctx)
    assert (await read_case(review_api, case_id, member))["state"] == "notice_issued"

    # Past the extended date, with nothing awaiting the chair, it lapses as any window does.
    await due_on(sessionmaker, case_id, datetime.now(UTC).date() - timedelta(days=1))
    await sweep_deadlines(ctx)
    case = await read_case(review_api, case_id, member)
    assert case["state"] == "reply_window_lapsed"


async def test_a_refused_extension_leaves_the_window_to_lapse(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    await take_case_to(review_api, case_id, member, "notice_issued")
    extension = (await ask(review_api, case_id, member)).json()
    await due_on(sessionmaker, case_id, datetime.now(UTC).date() - timedelta(days=1))
    refused = await decide(review_api, case_id, extension["id"], unit.chair, REFUSE)
    assert refused.status_code == 200 and refused.json()["due_after"] is None
    await sweep_deadlines(worker_ctx(sessionmaker))
    case = await read_case(review_api, case_id, member)
    assert case["state"] == "reply_window_lapsed"
    assert any(e["reason"].startswith("extension refused by the chair") for e in case["history"])


async def test_no_extension_outside_an_open_window(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Tried: before any notice, after the window's last day, after the reply, by the chair,
    and with too many, zero or no working days or no reason."""
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    early = await ask(review_api, case_id, member)
    assert early.status_code == 409 and early.json()["code"] == "extension-not-open"
    await take_case_to(review_api, case_id, member, "notice_issued")
    chair = await ask(review_api, case_id, unit.chair)
    assert chair.status_code == 403 and chair.json()["code"] == "not-assignee"
    for body, field in (
        ({**ASK, "working_days": 31}, "working_days"),
        ({**ASK, "working_days": 0}, "working_days"),
        ({"reason": "x"}, "working_days"),
        ({"working_days": 3}, "reason"),
    ):
        bad = await ask(review_api, case_id, member, body)
        assert bad.status_code == 422, (body, bad.text)
        assert field in {error["field"] for error in bad.json()["errors"]}
    await due_on(sessionmaker, case_id, datetime.now(UTC).date() - timedelta(days=1))
    late = await ask(review_api, case_id, member)
    assert late.status_code == 409 and "closed on" in late.json()["detail"]
    await due_on(sessionmaker, case_id, datetime.now(UTC).date() + timedelta(days=10))
    reply = await review_api.post(
        f"/v1/cases/{case_id}/reply", json={"statement": "My reply."}, headers=member.headers
    )
    assert reply.status_code == 200, reply.text
    replied = await ask(review_api, case_id, member)
    assert replied.status_code == 409
    assert (await read_case(review_api, case_id, member))["extensions"] == []
