"""The walking skeleton's flow in one process: real HTTP apps (ASGI), the real queue and the
real database, with the relay and workers pumped by the test. Plus redelivery: a message
delivered twice changes nothing the second time."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import Envelope
from tests.factories import (
    SeededUnit,
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.registry.factories import issue_reader
from tests.review.steps import SCREEN, determination_body
from tests.support import deliver_again, pump, run_worker

pytestmark = pytest.mark.usefixtures("catalogue")


async def submit(intake_api: httpx.AsyncClient, token: str, **overrides: Any) -> str:
    response = await intake_api.post(
        "/v1/reports", json=report_body(**overrides), headers=bearer(token)
    )
    assert response.status_code == 202, response.text
    report_id: str = response.json()["id"]
    return report_id


async def the_assigned_case(
    review_api: httpx.AsyncClient, unit: SeededUnit
) -> tuple[dict[str, Any], Any]:
    for member in unit.members:
        listed = await review_api.get("/v1/cases", headers=member.headers)
        assert listed.status_code == 200
        if listed.json()["items"]:
            return listed.json()["items"][0], member
    raise AssertionError("no member of the unit was assigned the case")


async def test_report_travels_from_portal_to_registry_and_back(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    report_id = await submit(intake_api, portal)

    await pump(sessionmaker, queue)

    case, member = await the_assigned_case(review_api, unit)
    assert case["state"] == "assigned"
    other = next(m for m in unit.members if m != member)
    assert (await review_api.get("/v1/cases", headers=other.headers)).json()["items"] == []
    assert (
        await review_api.get(f"/v1/cases/{case['id']}", headers=other.headers)
    ).status_code == 404
    case_url = f"/v1/cases/{case['id']}"

    # A determination before notice and reply is refused, naming the gate.
    too_early = await determination_body(review_api, case_url, member.headers, reasons="too early")
    early = await review_api.post(
        f"{case_url}/determination", json=too_early, headers=member.headers
    )
    assert early.status_code == 409 and "notice" in early.json()["detail"]

    # The notice waits for the protected-disclosure screen to let the charge go forward.
    unscreened = await review_api.post(
        f"{case_url}/notice", json={"allegations": "Rule 22: the post."}, headers=member.headers
    )
    assert unscreened.status_code == 409
    assert unscreened.json()["code"] == "disclosure-screen-required"
    screened = await review_api.post(f"{case_url}/screen", json=SCREEN, headers=member.headers)
    assert screened.status_code == 200, screened.text
    # ... and for the evidence the charges rely on to be cleared for disclosure.
    uncleared = await review_api.post(
        f"{case_url}/notice", json={"allegations": "Rule 22: the post."}, headers=member.headers
    )
    assert uncleared.status_code == 409
    assert uncleared.json()["code"] == "evidence-not-cleared"
    cleared = await review_api.post(
        f"{case_url}/evidence/clearances",
        json={
            "items": [
                {"number": 1, "decision": "no_identifying_details"},
                {"number": 2, "decision": "redacted", "description": "The post, as captured."},
            ]
        },
        headers=member.headers,
    )
    assert cleared.status_code == 200, cleared.text
    notice = await review_api.post(
        f"{case_url}/notice", json={"allegations": "Rule 22: the post."}, headers=member.headers
    )
    assert notice.status_code == 200, notice.text
    assert notice.json()["notice"]["reply_due_on"]
    reply = await review_api.post(
        f"{case_url}/reply", json={"statement": "I regret the post."}, headers=member.headers
    )
    assert reply.status_code == 200, reply.text
    # The determination also waits for the hearing, held or waived.
    ungated = await review_api.post(
        f"{case_url}/determination", json=too_early, headers=member.headers
    )
    assert ungated.status_code == 409 and "hearing" in ungated.json()["detail"]
    hearing = await review_api.post(
        f"{case_url}/hearing",
        json={
            "held_on": reply.json()["notice"]["issued_at"][:10],
            "attendees": ["Kamran Yousaf (employee)", "Bilal Ahmed (member)"],
            "minutes": "The employee said he removed the post the same day.",
        },
        headers=member.headers,
    )
    assert hearing.status_code == 200, hearing.text
    assert hearing.json()["hearing"]["outcome"] == "held"
    case_now = (await review_api.get(case_url, headers=member.headers)).json()
    determined = await review_api.post(
        f"{case_url}/determination",
        json={
            "reasons": "The post embarrasses the government.",
            "charges": [
                {
                    "charge_id": charge["id"],
                    "finding": "proved",
                    "reasons": "The post is his and blames the government.",
                    "evidence_relied_on": charge["evidence"],
                }
                for charge in case_now["charges"]
            ],
            "recommended_penalty": "ED2020-CENSURE",
        },
        headers=member.headers,
    )
    assert determined.status_code == 200, determined.text
    assert determined.json()["determination"]["final"] is False

    # One signature is not final: nothing reaches the registry yet.
    await pump(sessionmaker, queue)
    auditor = await issue_reader(sessionmaker, organisation_code=department)
    listed = await registry_api.get("/v1/violations", headers=bearer(auditor))
    assert listed.status_code == 200 and listed.json()["items"] == []

    # The investigator cannot countersign their own finding; the chair can.
    assert (
        await review_api.post(f"{case_url}/countersign", headers=member.headers)
    ).status_code in (403, 404)
    countersigned = await review_api.post(f"{case_url}/countersign", headers=unit.chair.headers)
    assert countersigned.status_code == 200, countersigned.text
    assert countersigned.json()["determination"]["final"] is True

    await pump(sessionmaker, queue)

    violations = (await registry_api.get("/v1/violations", headers=bearer(auditor))).json()["items"]
    assert len(violations) == 1
    assert violations[0]["rules_cited"] == ["CR1964-22"]
    verify = await registry_api.get(
        "/v1/audit/verify", headers=bearer(await issue_reader(sessionmaker))
    )
    assert verify.json()["status"] == "intact"
    status = (await intake_api.get(f"/v1/reports/{report_id}", headers=bearer(portal))).json()
    assert status["status"] == "recorded"
    assert [e["status"] for e in status["status_history"]] == [
        "received",
        "assigned",
        "notice_issued",
        "reply_received",
        "determined",
        "recorded",
    ]
    final_case = (await review_api.get(case_url, headers=member.headers)).json()
    assert final_case["state"] == "recorded"


async def test_a_redelivered_report_opens_one_case(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    report_id = await submit(intake_api, portal)
    async with sessionmaker() as session:
        envelope = (
            await session.execute(
                text(
                    "SELECT envelope FROM intake.outbox_message "
                    "WHERE envelope->'payload'->>'report_id' = :report_id"
                ),
                {"report_id": report_id},
            )
        ).scalar_one()
    await pump(sessionmaker, queue)

    # The same message again, as arq would after its result expired (a new job id).
    message = Envelope.model_validate(envelope)
    await deliver_again(queue, message, to="review", copies=2)
    assert await run_worker("review", queue) == 2
    await pump(sessionmaker, queue)

    async with sessionmaker() as session:
        cases = (
            await session.execute(
                text("SELECT count(*) FROM review.case WHERE submission_id = :id"),
                {"id": uuid.UUID(report_id)},
            )
        ).scalar_one()
    assert cases == 1
    assigned = [
        item
        for m in unit.members
        for item in (await review_api.get("/v1/cases", headers=m.headers)).json()["items"]
    ]
    assert len(assigned) == 1
