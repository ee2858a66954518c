"""A permission request's flow in one process: the portal's POST, review's case assigned to a
member of the right unit, the member's decision, permission.decided to registry, which lists
the official account; the portal's status follows to "recorded", then "closed". Plus
redelivery: a request delivered twice opens one case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import Envelope
from tests.factories import (
    SeededMember,
    SeededUnit,
    bearer,
    create_client,
    create_unit_with_members,
    unique_code,
)
from tests.permission_factories import PORTAL_SCOPES, official_account_body, personal_request_body
from tests.registry.factories import issue_reader
from tests.support import deliver_again, pump, run_worker

pytestmark = pytest.mark.usefixtures("catalogue")


async def the_assigned_case(
    review_api: httpx.AsyncClient, unit: SeededUnit
) -> tuple[dict[str, Any], SeededMember]:
    for member in unit.members:
        listed = await review_api.get("/v1/cases", headers=member.headers)
        assert listed.status_code == 200
        if listed.json()["items"]:
            return listed.json()["items"][0], member
    raise AssertionError("no member of the unit was assigned the case")


async def staged_decisions(
    sessionmaker: async_sessionmaker[AsyncSession], request_id: str
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT envelope FROM review.outbox_message "
                "WHERE message_type = 'permission.decided' "
                "AND envelope->'payload'->>'submission_id' = :id"
            ),
            {"id": request_id},
        )
        return [envelope for (envelope,) in rows]


async def test_an_official_account_request_travels_from_portal_to_the_registry(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department, scopes=PORTAL_SCOPES)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    body = official_account_body()
    submitted = await intake_api.post(
        "/v1/permission-requests",
        json=body,
        headers={**bearer(portal), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert submitted.status_code == 202, submitted.text
    request_id = submitted.json()["id"]

    await pump(sessionmaker, queue)

    case, member = await the_assigned_case(review_api, unit)
    assert case["kind"] == "permission" and case["state"] == "assigned"
    assert case["submission_id"] == request_id
    status = (
        await intake_api.get(f"/v1/permission-requests/{request_id}", headers=bearer(portal))
    ).json()
    assert [e["status"] for e in status["status_history"]] == ["received", "assigned"]

    case_url = f"/v1/cases/{case['id']}"
    # The report procedure is not how a permission is decided.
    notice = await review_api.post(
        f"{case_url}/notice", json={"allegations": "n/a"}, headers=member.headers
    )
    assert notice.status_code == 409 and notice.json()["code"] == "not-a-due-process-case"
    expires_on = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    decided = await review_api.post(
        f"{case_url}/permission-decision",
        json={
            "decision": "granted_with_conditions",
            "reasons": "Two moderators named; a complaints desk is a public service.",
            "conditions": ["Offensive remarks removed within 24 hours"],
            "expires_on": expires_on,
        },
        headers=member.headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "determined"

    [envelope] = await staged_decisions(sessionmaker, request_id)
    message = envelope["payload"]
    assert envelope["producer"] == "review"
    assert message["case_id"] == case["id"]
    assert message["department"] == department
    assert message["kind"] == "official_account"
    assert message["decision"] == "granted_with_conditions"
    assert message["conditions"] == ["Offensive remarks removed within 24 hours"]
    assert message["account_handle"] == body["account_handle"]
    assert message["account_purpose"] == "complaints"
    assert message["moderators"] == body["moderators"]
    assert message["expires_on"] == expires_on
    assert message["decided_by"] == str(member.id)

    await pump(sessionmaker, queue)

    status = (
        await intake_api.get(f"/v1/permission-requests/{request_id}", headers=bearer(portal))
    ).json()
    history = [e["status"] for e in status["status_history"]]
    # Nothing can follow a recorded permission decision: review closes the case at once.
    assert history == ["received", "assigned", "determined", "recorded", "closed"]
    assert status["status"] == "closed"
    assert "assignee_id" not in status and "decided_by" not in status

    # Granted accounts appear in the registry's official-accounts list, with their moderators.
    auditor = await issue_reader(sessionmaker, role="auditor")
    listed = await registry_api.get(
        "/v1/official-accounts", params={"department": department}, headers=bearer(auditor)
    )
    assert listed.status_code == 200, listed.text
    [account] = listed.json()["items"]
    assert account["account_handle"] == body["account_handle"]
    assert account["status"] == "active"
    assert account["expires_on"] == expires_on
    assert [moderator["name"] for moderator in account["moderators"]] == [
        moderator["name"] for moderator in body["moderators"]
    ]


async def test_a_redelivered_permission_request_opens_one_case(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department, scopes=PORTAL_SCOPES)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    submitted = await intake_api.post(
        "/v1/permission-requests", json=personal_request_body(), headers=bearer(portal)
    )
    request_id = submitted.json()["id"]
    async with sessionmaker() as session:
        envelope = (
            await session.execute(
                text(
                    "SELECT envelope FROM intake.outbox_message "
                    "WHERE envelope->'payload'->>'request_id' = :id"
                ),
                {"id": request_id},
            )
        ).scalar_one()
    await pump(sessionmaker, queue)

    # The same message again, as arq would after its result expired (a new job id).
    message = Envelope.model_validate(envelope)
    await deliver_again(queue, message, to="review")
    assert await run_worker("review", queue) == 1
    await pump(sessionmaker, queue)

    async with sessionmaker() as session:
        cases = (
            await session.execute(
                text("SELECT count(*) FROM review.case WHERE submission_id = :id"),
                {"id": uuid.UUID(request_id)},
            )
        ).scalar_one()
    assert cases == 1
    assigned = [
        item
        for m in unit.members
        for item in (await review_api.get("/v1/cases", headers=m.headers)).json()["items"]
    ]
    assert len(assigned) == 1
