"""The protected-disclosure screen over HTTP: a notice waits for it (409 naming the gate), its
answers stay on the case's history, and its outcome lets the charge go forward, dismisses the
case with reasons, or routes it off the normal track to the chair."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.review.steps import (
    NOTICE,
    SCREEN,
    act,
    announced_statuses,
    assigned_case,
    execute,
    read_case,
    screen_body,
)

pytestmark = pytest.mark.usefixtures("catalogue")


async def test_a_notice_waits_for_the_screen_to_let_the_charge_go_forward(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)

    early = await act(review_api, case_id, "notice", member, NOTICE)
    assert early.status_code == 409
    assert early.json()["code"] == "disclosure-screen-required"
    assert "protected-disclosure screen" in early.json()["detail"]
    assert (await read_case(review_api, case_id, member))["notice"] is None

    answers = screen_body()
    answers["already_public"] = {"answer": True, "note": "The circular was on the website."}
    screened = await act(review_api, case_id, "screen", member, answers)
    assert screened.status_code == 200, screened.text
    case = screened.json()
    assert case["state"] == "in_review"
    assert case["disclosure_screen"]["outcome"] == "proceed"
    assert case["disclosure_screen"]["already_public"] == answers["already_public"]
    [note] = [e for e in case["history"] if e["reason"].startswith("protected-disclosure screen")]
    assert note["actor_member_id"] == str(member.id)
    assert (
        "Is it about information already public? yes (The circular was on the website.)"
        in (note["reason"])
    )
    assert "Is it whistleblowing on wrongdoing? no" in note["reason"]

    read = await review_api.get(f"/v1/cases/{case_id}/screen", headers=unit.chair.headers)
    assert read.status_code == 200 and read.json()["outcome"] == "proceed"
    assert (await act(review_api, case_id, "notice", member, NOTICE)).status_code == 200
    # Once: the answers stand.
    again = await act(review_api, case_id, "screen", member, SCREEN)
    assert again.status_code == 409 and again.json()["code"] == "disclosure-screen-not-open"


async def test_dismissed_at_the_screen_the_case_ends_with_its_reasons(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await assigned_case(review_api, sessionmaker)
    answers = screen_body("dismiss", "The post exposed a diversion of medicines: whistleblowing.")
    answers["whistleblowing"] = {"answer": True, "note": "It reports a diversion of medicines."}

    dismissed = await act(review_api, case_id, "screen", member, answers)

    assert dismissed.status_code == 200, dismissed.text
    case = dismissed.json()
    assert case["state"] == "dismissed"
    assert case["history"][-1]["reason"].startswith("dismissed at the protected-disclosure screen")
    assert "Is it whistleblowing on wrongdoing? yes" in case["history"][-2]["reason"]
    assert (await announced_statuses(sessionmaker, case_id))[-1] == "dismissed"
    assert (await act(review_api, case_id, "notice", member, NOTICE)).status_code == 409


async def test_routed_to_a_confidential_channel_the_case_leaves_the_normal_track(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    answers = screen_body("confidential_channel", "Alleges fraud by a superior: for the chair.")

    routed = await act(review_api, case_id, "screen", member, answers)

    assert routed.status_code == 200, routed.text
    assert routed.json()["state"] == "confidential_channel"
    chairs = (await review_api.get("/v1/cases", headers=unit.chair.headers)).json()["items"]
    assert {item["id"]: item["state"] for item in chairs}[str(case_id)] == "confidential_channel"
    case = await read_case(review_api, case_id, unit.chair)
    assert case["disclosure_screen"]["reasons"] == answers["reasons"]
    assert "routed to a confidential channel" in case["history"][-1]["reason"]
    # Off the normal track: no notice, no dismissal, and the portal was told nothing new.
    for step, body in (("notice", NOTICE), ("dismissal", {"reasons": "No."})):
        assert (await act(review_api, case_id, step, member, body)).status_code == 409
    assert "confidential_channel" not in await announced_statuses(sessionmaker, case_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"outcome": "dismiss"}, "reasons"),
        ({"outcome": "confidential_channel"}, "reasons"),
        ({"outcome": "maybe"}, "outcome"),
        ({"whistleblowing": {"answer": True}}, "whistleblowing.note"),
        ({"public_interest": {"answer": "perhaps", "note": "x"}}, "public_interest.answer"),
        ({"private_capacity": None}, "private_capacity"),
        ({"screened_by": str(uuid.uuid4())}, "screened_by"),
    ],
)
async def test_a_malformed_screen_is_refused_naming_the_field_and_changes_nothing(
    change: dict[str, object],
    field: str,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Tried: dismissing or routing without reasons, an unknown outcome, an answer without its
    note, a non-boolean answer, a missing question, a server-owned field."""
    _, case_id, member = await assigned_case(review_api, sessionmaker)
    refused = await act(review_api, case_id, "screen", member, {**SCREEN, **change})
    assert refused.status_code == 422, refused.text
    assert field in {error["field"] for error in refused.json()["errors"]}
    case = await read_case(review_api, case_id, member)
    assert case["disclosure_screen"] is None and case["state"] == "assigned"


async def test_only_the_assignee_screens_and_not_before_the_permission_check_answers(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    refused = await act(review_api, case_id, "screen", unit.chair, SCREEN)
    assert refused.status_code == 403 and refused.json()["code"] == "not-assignee"
    colleague = next(m for m in unit.members if m != member)
    assert (await act(review_api, case_id, "screen", colleague, SCREEN)).status_code == 404
    assert (
        await review_api.get(f"/v1/cases/{case_id}/screen", headers=member.headers)
    ).status_code == 404

    await execute(
        sessionmaker,
        "UPDATE review.permission_check SET status = 'pending' WHERE case_id = :id",
        id=case_id,
    )
    pending = await act(review_api, case_id, "screen", member, SCREEN)
    assert pending.status_code == 409
    assert "permission check at triage has not answered" in pending.json()["detail"]
