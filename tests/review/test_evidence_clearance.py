"""Clearing a case's evidence for disclosure to the employee, over the review HTTP API: the
notice waits until every item its charges rely on is cleared (a redacted description, or the
text confirmed free of identifying details, and any snapshot reviewed); the bundle and the
notice carry only the cleared form; an item a charge relies on is never withheld, and no charge
relies on a withheld one; bad input is refused naming the field, and nothing changes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import SeededMember, SeededUnit, create_unit_with_members, unique_code
from tests.review.charge_steps import ARCHIVE, SCREENSHOT, open_case_with
from tests.review.steps import SCREEN, assignee_of, read_case

pytestmark = pytest.mark.usefixtures("catalogue")

REDACTED = "A capture of the post and the replies under it (a name in the caption removed)"


async def screened_case(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[SeededUnit, uuid.UUID, SeededMember]:
    """A case whose one charge relies on items 1 (the post) and 2 (a screenshot with its
    snapshot), with item 3 (an archive link) relied on by no charge; screened to proceed."""
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_case_with(
        sessionmaker, department=department, evidence=[SCREENSHOT, ARCHIVE]
    )
    member = await assignee_of(unit, case_id, review_api)
    [charge] = (await read_case(review_api, case_id, member))["charges"]
    narrowed = await review_api.patch(
        f"/v1/cases/{case_id}/charges/{charge['id']}",
        json={"evidence": [1, 2], "reason": "The archive adds nothing."},
        headers=member.headers,
    )
    assert narrowed.status_code == 200, narrowed.text
    screened = await post(review_api, case_id, "screen", member, SCREEN)
    assert screened.status_code == 200, screened.text
    return unit, case_id, member


async def post(
    review_api: httpx.AsyncClient,
    case_id: uuid.UUID,
    step: str,
    member: SeededMember,
    body: dict[str, Any],
) -> httpx.Response:
    return await review_api.post(f"/v1/cases/{case_id}/{step}", json=body, headers=member.headers)


async def clear(
    review_api: httpx.AsyncClient,
    case_id: uuid.UUID,
    member: SeededMember,
    *items: dict[str, Any],
) -> httpx.Response:
    return await post(review_api, case_id, "evidence/clearances", member, {"items": list(items)})


async def staged_notice(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> dict[str, Any]:
    """The notice.served message review staged for the portal."""
    async with sessionmaker() as session:
        payload = await session.scalar(
            text(
                "SELECT envelope->'payload' FROM review.outbox_message "
                "WHERE message_type = 'notice.served' AND envelope->'payload'->>'case_id' = :id"
            ),
            {"id": str(case_id)},
        )
    assert payload is not None
    return dict(payload)


async def test_the_notice_waits_for_the_evidence_and_carries_only_its_cleared_form(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await screened_case(review_api, sessionmaker)

    refused = await post(review_api, case_id, "notice", member, {})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "evidence-not-cleared"
    assert "items 1, 2 are not" in refused.json()["detail"]
    # Item 1 alone is not enough.
    first = await clear(
        review_api, case_id, member, {"number": 1, "decision": "no_identifying_details"}
    )
    assert first.status_code == 200, first.text
    still = await post(review_api, case_id, "notice", member, {})
    assert still.status_code == 409 and "items 2 are not" in still.json()["detail"]
    assert (await read_case(review_api, case_id, member))["notice"] is None

    redacted = await clear(
        review_api,
        case_id,
        member,
        {
            "number": 2,
            "decision": "redacted",
            "description": REDACTED,
            "snapshot_reviewed": True,
            "reason": "The caption named the colleague who forwarded it.",
        },
    )
    assert redacted.status_code == 200, redacted.text
    item = next(i for i in redacted.json() if i["number"] == 2)
    assert (item["disclosure"], item["disclosure_basis"], item["snapshot_reviewed"]) == (
        "cleared",
        "redacted",
        True,
    )
    served = await post(review_api, case_id, "notice", member, {})

    assert served.status_code == 200, served.text
    case = served.json()
    bundle = (
        await review_api.get(f"/v1/cases/{case_id}/notice/bundle", headers=member.headers)
    ).json()
    by_number = {item["number"]: item for item in bundle["items"]}
    assert sorted(by_number) == [1, 2]
    assert by_number[2]["description"] == REDACTED
    assert by_number[2]["snapshot_file_id"] == str(SCREENSHOT.snapshot_file_id)
    assert SCREENSHOT.description not in str(bundle)
    assert case["notice"]["evidence"] == bundle["items"]
    # The unit still sees the item as reported, beside its cleared form.
    held = {item["number"]: item for item in case["evidence"]}
    assert held[2]["description"] == SCREENSHOT.description
    assert held[2]["disclosed_description"] == REDACTED
    assert held[3]["disclosure"] is None
    # The portal is sent the cleared form only.
    portal = await staged_notice(sessionmaker, case_id)
    assert REDACTED in str(portal["notice"]) and SCREENSHOT.description not in str(portal)
    reasons = [event["reason"] for event in case["history"]]
    assert any(
        "evidence item 2 cleared for disclosure with a redacted description" in r for r in reasons
    )
    # Served: the clearances are frozen with the charges.
    late = await clear(
        review_api, case_id, member, {"number": 3, "decision": "withheld", "reason": "x"}
    )
    assert late.status_code == 409 and late.json()["code"] == "evidence-disclosure-closed"


async def test_an_item_a_charge_relies_on_is_never_withheld_nor_relied_on_once_withheld(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id, member = await screened_case(review_api, sessionmaker)
    [charge] = (await read_case(review_api, case_id, member))["charges"]

    relied_on = await clear(
        review_api, case_id, member, {"number": 2, "decision": "withheld", "reason": "Names her."}
    )
    assert relied_on.status_code == 409, relied_on.text
    assert relied_on.json()["code"] == "evidence-relied-on"
    assert "item 2" in relied_on.json()["detail"] and "charge 1" in relied_on.json()["detail"]
    assert {
        i["number"]: i["disclosure"]
        for i in (await read_case(review_api, case_id, member))["evidence"]
    } == {1: None, 2: None, 3: None}

    # Item 3 is relied on by no charge: it may be withheld; then no charge may rely on it.
    withheld = await clear(
        review_api,
        case_id,
        member,
        {
            "number": 3,
            "decision": "withheld",
            "reason": "The archive page shows the reporter's profile.",
        },
    )
    assert withheld.status_code == 200, withheld.text
    amended = await review_api.patch(
        f"/v1/cases/{case_id}/charges/{charge['id']}",
        json={"evidence": [1, 3], "reason": "Rely on the archive."},
        headers=member.headers,
    )
    assert amended.status_code == 422, amended.text
    assert [e["field"] for e in amended.json()["errors"]] == ["evidence.1"]
    added = await post(
        review_api,
        case_id,
        "charges",
        member,
        {
            "rule": "CR1964-18",
            "particulars": "Shared the inquiry report.",
            "evidence": [3],
            "reason": "The report is official.",
        },
    )
    assert added.status_code == 422 and [e["field"] for e in added.json()["errors"]] == [
        "evidence.0"
    ]
    case = await read_case(review_api, case_id, member)
    assert [c["evidence"] for c in case["charges"]] == [[1, 2]]
    # The withheld item is never disclosed: the charges do not rely on it.
    for number in (1, 2):
        body = {"number": number, "decision": "no_identifying_details"}
        if number == 2:
            body["snapshot_reviewed"] = True
        assert (await clear(review_api, case_id, member, body)).status_code == 200
    served = await post(review_api, case_id, "notice", member, {})
    assert served.status_code == 200, served.text
    assert [i["number"] for i in served.json()["notice"]["evidence"]] == [1, 2]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"number": 9, "decision": "no_identifying_details"}], "items.0.number"),
        ([{"number": 1, "decision": "redacted"}], "items.0.description"),
        (
            [{"number": 1, "decision": "no_identifying_details", "description": "x"}],
            "items.0.description",
        ),
        ([{"number": 2, "decision": "no_identifying_details"}], "items.0.snapshot_reviewed"),
        (
            [{"number": 2, "decision": "no_identifying_details", "snapshot_reviewed": False}],
            "items.0.snapshot_reviewed",
        ),
        (
            [{"number": 1, "decision": "no_identifying_details", "snapshot_reviewed": True}],
            "items.0.snapshot_reviewed",
        ),
        ([{"number": 3, "decision": "withheld"}], "items.0.reason"),
        (
            [
                {"number": 1, "decision": "no_identifying_details"},
                {"number": 1, "decision": "redacted", "description": "x"},
            ],
            "items.1.number",
        ),
        ([{"number": 1, "decision": "forgotten"}], "items.0.decision"),
        ([], "items"),
        (
            [{"number": 1, "decision": "no_identifying_details", "cleared_by": "me"}],
            "items.0.cleared_by",
        ),
    ],
    ids=[
        "an item the case does not have",
        "a redaction without the redacted text",
        "a description with an unredacted item",
        "a snapshot not confirmed reviewed",
        "a snapshot said not reviewed",
        "a snapshot confirmed where there is none",
        "withheld without a reason",
        "one item twice",
        "an unknown decision",
        "no items",
        "a server-owned field",
    ],
)
async def test_a_bad_clearance_is_refused_naming_the_field_and_stores_nothing(
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    items: list[dict[str, Any]],
    field: str,
) -> None:
    _, case_id, member = await screened_case(review_api, sessionmaker)
    before = await read_case(review_api, case_id, member)

    refused = await clear(review_api, case_id, member, *items)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in {error["field"] for error in refused.json()["errors"]}
    after = await read_case(review_api, case_id, member)
    assert after["evidence"] == before["evidence"] and after["history"] == before["history"]


async def test_only_the_assignee_clears_evidence(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unit, case_id, member = await screened_case(review_api, sessionmaker)
    colleague = next(m for m in unit.members if m != member)
    body = {"number": 1, "decision": "no_identifying_details"}

    by_chair = await clear(review_api, case_id, unit.chair, body)
    assert by_chair.status_code == 403 and by_chair.json()["code"] == "not-assignee"
    assert (await clear(review_api, case_id, colleague, body)).status_code == 404
    assert (await read_case(review_api, case_id, member))["evidence"][0]["disclosure"] is None
