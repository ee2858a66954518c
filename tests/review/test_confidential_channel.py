"""The way out of the confidential channel, over the review HTTP API (and, for what the portal
sees, the whole flow): the chair of the case's unit refers the case to the competent
protected-disclosure authority, returns it to the normal track after re-screening, or dismisses
it, with reasons, each on the case's history; every other attempt is refused (403, 404, 409
naming the gate, 422 naming the field) and changes nothing; the portal sees only closed or
dismissed, never the channel."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import (
    SeededMember,
    SeededUnit,
    bearer,
    create_client,
    create_unit_with_members,
    unique_code,
)
from tests.review.steps import (
    HEARING,
    NOTICE,
    REPLY,
    SCREEN,
    act,
    announced_statuses,
    assigned_case,
    determine,
    read_case,
    screen_body,
)
from tests.support import pump
from tests.test_flow import submit, the_assigned_case

pytestmark = pytest.mark.usefixtures("catalogue")

OUTCOME = "confidential-channel/outcome"
ROUTED = screen_body("confidential_channel", "Alleges fraud by a superior: for the chair.")
REFERRED = {
    "outcome": "referred",
    "authority": "Provincial Ombudsperson (whistleblower protection)",
    "reference": "OMB/PD/2026/041",
    "reasons": "The post discloses alleged procurement fraud; the Ombudsperson is competent.",
}
RESCREEN = {
    question: {"answer": False, "note": f"On the chair's reading, not {question}."}
    for question in ("whistleblowing", "public_interest", "private_capacity", "already_public")
}
RETURNED = {
    "outcome": "returned",
    "rescreen": RESCREEN,
    "reasons": "The 'fraud' is a personal quarrel over a transfer; no wrongdoing is disclosed.",
}
DISMISSED = {"outcome": "dismissed", "reasons": "The post was removed and names no one."}


async def routed_case(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[SeededUnit, uuid.UUID, SeededMember]:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    routed = await act(review_api, case_id, "screen", member, ROUTED)
    assert routed.status_code == 200 and routed.json()["state"] == "confidential_channel"
    return unit, case_id, member


async def channel_announcements(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[str]:
    """Every message review staged about the case, whole: none may mention the channel."""
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT envelope::text FROM review.outbox_message "
                "WHERE envelope->'payload'->>'case_id' = :id"
            ),
            {"id": str(case_id)},
        )
        return [envelope for (envelope,) in rows]


async def test_the_chair_refers_the_case_to_the_protected_disclosure_authority(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await routed_case(review_api, sessionmaker)

    referred = await act(review_api, case_id, OUTCOME, unit.chair, REFERRED)

    assert referred.status_code == 200, referred.text
    case = referred.json()
    assert case["state"] == "closed"
    outcome = case["confidential_outcome"]
    assert (outcome["outcome"], outcome["authority"], outcome["reference"]) == (
        "referred",
        REFERRED["authority"],
        REFERRED["reference"],
    )
    assert outcome["decided_by"] == str(unit.chair.id) and outcome["rescreen"] is None
    last = case["history"][-1]
    assert (last["from_state"], last["to_state"], last["actor_member_id"]) == (
        "confidential_channel",
        "closed",
        str(unit.chair.id),
    )
    assert REFERRED["authority"] in last["reason"] and REFERRED["reference"] in last["reason"]
    assert REFERRED["reasons"] in last["reason"]
    # The portal is told the case is closed, and nothing of the channel or the referral.
    assert await announced_statuses(sessionmaker, case_id) == ["assigned", "closed"]
    for envelope in await channel_announcements(sessionmaker, case_id):
        assert "confidential" not in envelope and REFERRED["reference"] not in envelope
    # Closed: no second outcome, and the normal track stays shut.
    again = await act(review_api, case_id, OUTCOME, unit.chair, DISMISSED)
    assert again.status_code == 409 and again.json()["code"] == "illegal-transition"
    assert (await act(review_api, case_id, "notice", member, NOTICE)).status_code == 409


async def test_returned_after_re_screening_the_case_goes_on_the_normal_track(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await routed_case(review_api, sessionmaker)

    returned = await act(review_api, case_id, OUTCOME, unit.chair, RETURNED)

    assert returned.status_code == 200, returned.text
    case = returned.json()
    assert case["state"] == "in_review" and case["assignee_id"] == str(member.id)
    assert case["confidential_outcome"]["rescreen"] == RESCREEN
    # The member's first screen stands on the record; the chair's re-screening follows it.
    assert case["disclosure_screen"]["outcome"] == "confidential_channel"
    last = case["history"][-1]
    assert (last["from_state"], last["to_state"]) == ("confidential_channel", "in_review")
    assert "re-screening" in last["reason"] and RETURNED["reasons"] in last["reason"]
    for note in (answer["note"] for answer in RESCREEN.values()):
        assert note in last["reason"]
    # The screen is not taken twice; the notice may now be served, and the procedure goes on.
    assert (await act(review_api, case_id, "screen", member, SCREEN)).status_code == 409
    for step, body in (("notice", NOTICE), ("reply", REPLY), ("hearing", HEARING)):
        answer = await act(review_api, case_id, step, member, body)
        assert answer.status_code == 200, (step, answer.text)
    determined = await determine(review_api, case_id, member)
    assert determined.status_code == 200, determined.text
    assert determined.json()["determination"]["finding"] == "violation"
    assert await announced_statuses(sessionmaker, case_id) == [
        "assigned",
        "notice_issued",
        "reply_received",
    ]


async def test_a_case_returned_after_its_member_left_goes_to_a_colleague(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """In the channel the case is not counted as its member's, so it is not handed over when
    the member leaves; on its return it goes to a colleague by the load rule."""
    unit, case_id, member = await routed_case(review_api, sessionmaker)
    colleague = next(m for m in unit.members if m != member)
    left = await review_api.post(
        f"/v1/units/{unit.id}/members/{member.id}/deactivation",
        json={"reason": "Transferred out of the unit."},
        headers=unit.chair.headers,
    )
    assert left.status_code == 200, left.text

    returned = await act(review_api, case_id, OUTCOME, unit.chair, RETURNED)

    assert returned.status_code == 200, returned.text
    case = returned.json()
    assert (case["state"], case["assignee_id"]) == ("in_review", str(colleague.id))
    assert "may no longer hold it" in case["history"][-1]["reason"]
    served = await act(review_api, case_id, "notice", colleague, NOTICE)
    assert served.status_code == 200, served.text


async def test_the_chair_dismisses_the_case_from_the_channel(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await routed_case(review_api, sessionmaker)

    dismissed = await act(review_api, case_id, OUTCOME, unit.chair, DISMISSED)

    assert dismissed.status_code == 200, dismissed.text
    case = dismissed.json()
    assert case["state"] == "dismissed"
    assert case["confidential_outcome"]["outcome"] == "dismissed"
    assert DISMISSED["reasons"] in case["history"][-1]["reason"]
    assert await announced_statuses(sessionmaker, case_id) == ["assigned", "dismissed"]
    assert (await act(review_api, case_id, OUTCOME, unit.chair, RETURNED)).status_code == 409


async def test_only_the_chair_of_the_unit_takes_a_case_out_of_the_channel(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await routed_case(review_api, sessionmaker)
    stranger = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])

    by_member = await act(review_api, case_id, OUTCOME, member, REFERRED)
    assert by_member.status_code == 403 and by_member.json()["code"] == "not-chair"
    by_other_chair = await act(review_api, case_id, OUTCOME, stranger.chair, REFERRED)
    assert by_other_chair.status_code == 404
    case = await read_case(review_api, case_id, unit.chair)
    assert case["state"] == "confidential_channel" and case["confidential_outcome"] is None


async def test_a_case_not_in_the_channel_is_refused_naming_the_gate(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await assigned_case(review_api, sessionmaker)
    for body in (REFERRED, RETURNED, DISMISSED):
        refused = await act(review_api, case_id, OUTCOME, unit.chair, body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "illegal-transition"
        assert "must be in the confidential channel" in refused.json()["detail"]
    await act(review_api, case_id, "screen", member, SCREEN)
    assert (await act(review_api, case_id, OUTCOME, unit.chair, RETURNED)).status_code == 409
    case = await read_case(review_api, case_id, unit.chair)
    assert case["state"] == "in_review" and case["confidential_outcome"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REFERRED, "authority": None}, "authority"),
        ({key: v for key, v in REFERRED.items() if key != "reference"}, "reference"),
        ({**REFERRED, "rescreen": RESCREEN}, "rescreen"),
        ({key: v for key, v in RETURNED.items() if key != "rescreen"}, "rescreen"),
        ({**RETURNED, "reference": "X/1"}, "reference"),
        ({**DISMISSED, "authority": "Ombudsperson"}, "authority"),
        ({key: v for key, v in DISMISSED.items() if key != "reasons"}, "reasons"),
        ({**DISMISSED, "outcome": "forgotten"}, "outcome"),
        (
            {**RETURNED, "rescreen": {**RESCREEN, "whistleblowing": {"answer": True}}},
            "rescreen.whistleblowing.note",
        ),
        ({**DISMISSED, "decided_by": str(uuid.uuid4())}, "decided_by"),
    ],
    ids=[
        "a referral without the authority",
        "a referral without its reference",
        "a referral with a re-screening",
        "a return without a re-screening",
        "a return with a reference",
        "a dismissal naming an authority",
        "no reasons",
        "an unknown outcome",
        "a re-screening answer without its note",
        "a server-owned field",
    ],
)
async def test_a_malformed_outcome_is_refused_naming_the_field_and_changes_nothing(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: dict[str, Any],
    field: str,
) -> None:
    unit, case_id, _ = await routed_case(review_api, sessionmaker)
    sent = {key: value for key, value in body.items() if value is not None}

    refused = await act(review_api, case_id, OUTCOME, unit.chair, sent)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in {error["field"] for error in refused.json()["errors"]}
    case = await read_case(review_api, case_id, unit.chair)
    assert case["state"] == "confidential_channel" and case["confidential_outcome"] is None


async def test_the_portal_sees_a_referred_case_closed_and_never_the_channel(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    report_id = await submit(intake_api, portal)
    await pump(sessionmaker, queue)
    case, member = await the_assigned_case(review_api, unit)
    case_id = uuid.UUID(case["id"])
    for step, actor, body in (("screen", member, ROUTED), (OUTCOME, unit.chair, REFERRED)):
        answer = await act(review_api, case_id, step, actor, body)
        assert answer.status_code == 200, (step, answer.text)

    await pump(sessionmaker, queue)

    report = await intake_api.get(f"/v1/reports/{report_id}", headers=bearer(portal))
    assert report.status_code == 200, report.text
    assert report.json()["status"] == "closed"
    assert "confidential" not in report.text and REFERRED["reference"] not in report.text
    assert "Ombudsperson" not in report.text
