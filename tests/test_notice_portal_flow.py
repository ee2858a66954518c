"""The employee's side of a notice, through the department's portal, end to end over the real
HTTP apps, queue and database: the served notice reaches the portal; the portal acknowledges
receipt and replies (with a representative, attachments and a request for a hearing) for the
employee; the case shows it all, once. Another department sees nothing; a late reply is
refused and the portal sees why; more time is the chair's to give."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.review.cases.tasks import sweep_deadlines
from shared.messages import Envelope
from tests.factories import (
    SeededMember,
    SeededUnit,
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.intake.evidence_support import PDF, PNG, upload
from tests.intake.support import intake_client
from tests.review.steps import SCREEN, clear_for_notice, execute, read_case, worker_ctx
from tests.support import count_rows, deliver_again, pump

pytestmark = pytest.mark.usefixtures("catalogue")

PORTAL_SCOPES = ("reports:write", "status:read", "notices:respond")
REPLY = {
    "statement": "The post quoted a public circular; I removed it the same day.",
    "representative": {
        "name": "Dr. Amna Saeed",
        "designation": "Senior Medical Officer",
        "relationship": "colleague",
    },
    "request_hearing": True,
}


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with intake_client(evidence_directory=str(tmp_path / "evidence")) as client:
        yield client


@dataclass
class Served:
    department: str
    portal: str
    unit: SeededUnit
    member: SeededMember
    case_id: str
    employee_ref: str
    notice_id: str


async def serve_a_notice(
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> Served:
    """A portal's report, the case screened and its notice served, and the portal's view."""
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department, scopes=PORTAL_SCOPES)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    body = report_body()
    employee_ref = body["subjects"][0]["employee_ref"]
    accepted = await intake.post("/v1/reports", json=body, headers=bearer(portal))
    assert accepted.status_code == 202, accepted.text
    await pump(sessionmaker, queue)
    for member in unit.members:
        items = (await review_api.get("/v1/cases", headers=member.headers)).json()["items"]
        if items:
            case_id = items[0]["id"]
            break
    else:
        raise AssertionError("nobody was assigned the case")
    url = f"/v1/cases/{case_id}"
    screened = await review_api.post(f"{url}/screen", json=SCREEN, headers=member.headers)
    assert screened.status_code == 200, screened.text
    await clear_for_notice(review_api, url, member.headers)
    served = await review_api.post(
        f"{url}/notice",
        json={"allegations": "Rule 22: the post of 1 November, evidence item 1."},
        headers=member.headers,
    )
    assert served.status_code == 200, served.text
    await pump(sessionmaker, queue)
    listed = await intake.get(
        "/v1/notices", params={"employee_ref": employee_ref}, headers=bearer(portal)
    )
    assert listed.status_code == 200, listed.text
    [notice] = listed.json()["items"]
    return Served(department, portal, unit, member, case_id, employee_ref, notice["id"])


async def portal_notice(intake: httpx.AsyncClient, served: Served) -> dict[str, Any]:
    response = await intake.get(f"/v1/notices/{served.notice_id}", headers=bearer(served.portal))
    assert response.status_code == 200, response.text
    notice: dict[str, Any] = response.json()
    return notice


def reasons(case: dict[str, Any]) -> list[str]:
    return [event["reason"] for event in case["history"]]


async def test_the_employee_reads_acknowledges_and_replies_through_the_portal(
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    served = await serve_a_notice(intake, review_api, sessionmaker, queue)
    case = await read_case(review_api, uuid.UUID(served.case_id), served.member)

    # The portal reads the notice as the unit served it, whole.
    notice = await portal_notice(intake, served)
    assert notice["content"] == case["notice"]
    assert notice["employee_ref"] == served.employee_ref
    assert notice["reply_due_on"] == case["notice"]["reply_due_on"]
    assert notice["status"] == "awaiting_reply" and notice["receipt_acknowledged_at"] is None

    # Served with receipt: the time goes onto the case, once however often it is sent.
    receipt = await intake.post(
        f"/v1/notices/{served.notice_id}/receipt", headers=bearer(served.portal)
    )
    assert receipt.status_code == 200, receipt.text
    acknowledged_at = receipt.json()["receipt_acknowledged_at"]
    again = await intake.post(
        f"/v1/notices/{served.notice_id}/receipt", headers=bearer(served.portal)
    )
    assert again.json()["receipt_acknowledged_at"] == acknowledged_at
    await pump(sessionmaker, queue)
    case = await read_case(review_api, uuid.UUID(served.case_id), served.member)
    assert case["notice_receipt_acknowledged_at"] is not None
    receipts = [r for r in reasons(case) if r.startswith("notice receipt acknowledged")]
    assert len(receipts) == 1 and "the employee via portal" in receipts[0]

    # The reply, with a representative, two attachments the portal uploaded and a hearing asked.
    files = [
        (await upload(intake, served.portal, content, media_type)).json()
        for content, media_type in ((PDF, "application/pdf"), (PNG, "image/png"))
    ]
    body = {**REPLY, "attachments": [file["id"] for file in files]}
    headers = {**bearer(served.portal), "Idempotency-Key": uuid.uuid4().hex}
    sent = await intake.post(f"/v1/notices/{served.notice_id}/replies", json=body, headers=headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "submitted"
    # A retry with the same key gets the first answer and sends nothing more.
    retried = await intake.post(
        f"/v1/notices/{served.notice_id}/replies", json=body, headers=headers
    )
    assert retried.status_code == 202 and retried.json() == sent.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert (await portal_notice(intake, served))["status"] == "reply_submitted"

    await pump(sessionmaker, queue)

    case = await read_case(review_api, uuid.UUID(served.case_id), served.member)
    assert case["state"] == "reply_received"
    reply = case["reply"]
    assert reply["statement"] == REPLY["statement"]
    assert reply["submitted_by"] == "the employee via portal" and reply["recorded_by"] is None
    assert reply["representative"] == REPLY["representative"]
    assert reply["hearing_requested"] is True
    assert [a["evidence_file_id"] for a in reply["attachments"]] == [f["id"] for f in files]
    assert [a["sha256"] for a in reply["attachments"]] == [f["sha256"] for f in files]
    received = [
        e
        for e in case["history"]
        if e["to_state"] == "reply_received" and e["from_state"] == "notice_issued"
    ]
    assert len(received) == 1 and received[0]["actor_member_id"] is None
    assert "the employee via portal" in received[0]["reason"]
    assert "the employee via portal asks for a hearing" in reasons(case)

    notice = await portal_notice(intake, served)
    assert notice["status"] == "reply_received"
    [answer] = notice["replies"]
    assert answer["kind"] == "reply" and answer["status"] == "accepted"
    assert answer["attachment_ids"] == [f["id"] for f in files]

    # The reply's message delivered again (its first result expired): nothing changes.
    async with sessionmaker() as session:
        document = (
            await session.execute(
                text(
                    "SELECT envelope FROM intake.outbox_message "
                    "WHERE message_type = 'notice.reply_submitted' "
                    "AND envelope->'payload'->>'notice_id' = :id"
                ),
                {"id": served.notice_id},
            )
        ).scalar_one()
    await deliver_again(queue, Envelope.model_validate(document), to="review", copies=2)
    await pump(sessionmaker, queue)
    again_case = await read_case(review_api, uuid.UUID(served.case_id), served.member)
    assert again_case["history"] == case["history"]
    # And the portal cannot reply twice.
    second = await intake.post(
        f"/v1/notices/{served.notice_id}/replies", json=REPLY, headers=bearer(served.portal)
    )
    assert second.status_code == 409 and second.json()["code"] == "notice-already-answered"


async def test_another_department_sees_none_of_the_notices(
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    """Tried: another department's portal lists, reads, acknowledges and replies to the
    notice, and names the first department's evidence file as an attachment."""
    served = await serve_a_notice(intake, review_api, sessionmaker, queue)
    stranger = await create_client(
        sessionmaker, organisation_code=unique_code("DEPT"), scopes=PORTAL_SCOPES
    )
    listed = await intake.get(
        "/v1/notices", params={"employee_ref": served.employee_ref}, headers=bearer(stranger)
    )
    assert listed.status_code == 200 and listed.json()["items"] == []
    url = f"/v1/notices/{served.notice_id}"
    for answer in (
        await intake.get(url, headers=bearer(stranger)),
        await intake.post(f"{url}/receipt", headers=bearer(stranger)),
        await intake.post(f"{url}/replies", json=REPLY, headers=bearer(stranger)),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "notice-not-found"
    # A portal without the notices scope is refused outright.
    reporter_only = await create_client(
        sessionmaker, organisation_code=served.department, scopes=("reports:write",)
    )
    assert (await intake.get(url, headers=bearer(reporter_only))).status_code == 403

    # The owner's own files only: a stranger's upload is refused by name, nothing stored.
    strangers_file = (await upload(intake, stranger, PDF, "application/pdf")).json()["id"]
    before = await count_rows(sessionmaker, "intake.notice_reply")
    refused = await intake.post(
        f"{url}/replies",
        json={**REPLY, "attachments": [strangers_file]},
        headers=bearer(served.portal),
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["attachments.0"]
    assert await count_rows(sessionmaker, "intake.notice_reply") == before
    notice = await portal_notice(intake, served)
    assert notice["status"] == "awaiting_reply" and notice["replies"] == []
    assert notice["receipt_acknowledged_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "statement"),
        ({"statement": "x", "extension": {"reason": "ill", "working_days": 3}}, "extension"),
        (
            {"extension": {"reason": "ill", "working_days": 3}, "request_hearing": True},
            "request_hearing",
        ),
        ({"statement": "x", "status": "accepted"}, "status"),
        ({"statement": "x", "attachments": ["not-an-id"]}, "attachments.0"),
        ({"extension": {"reason": "ill", "working_days": 0}}, "extension.working_days"),
        ({"statement": "   "}, "statement"),
    ],
)
async def test_a_malformed_answer_is_refused_naming_the_field_and_stores_nothing(
    body: dict[str, Any],
    field: str,
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    """Tried: no statement and no extension, both, a hearing asked with only an extension, a
    server-owned field, an attachment that is not an id, zero days, a blank statement."""
    served = await serve_a_notice(intake, review_api, sessionmaker, queue)
    before = await count_rows(sessionmaker, "intake.notice_reply")
    refused = await intake.post(
        f"/v1/notices/{served.notice_id}/replies", json=body, headers=bearer(served.portal)
    )
    assert refused.status_code == 422, refused.text
    assert field in {error["field"] for error in refused.json()["errors"]}
    assert await count_rows(sessionmaker, "intake.notice_reply") == before
    assert (await portal_notice(intake, served))["status"] == "awaiting_reply"


async def test_a_reply_after_the_window_closed_is_refused_and_the_portal_sees_why(
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    served = await serve_a_notice(intake, review_api, sessionmaker, queue)
    closed_on = date.today() - timedelta(days=2)
    await execute(
        sessionmaker,
        "UPDATE review.notice SET reply_due_on = :due WHERE case_id = :id",
        due=closed_on,
        id=uuid.UUID(served.case_id),
    )

    sent = await intake.post(
        f"/v1/notices/{served.notice_id}/replies", json=REPLY, headers=bearer(served.portal)
    )
    assert sent.status_code == 202, sent.text
    await pump(sessionmaker, queue)

    notice = await portal_notice(intake, served)
    assert notice["status"] == "reply_refused"
    [answer] = notice["replies"]
    assert answer["status"] == "refused"
    assert f"the reply window closed on {closed_on}" in answer["outcome"]
    case = await read_case(review_api, uuid.UUID(served.case_id), served.member)
    assert case["state"] == "notice_issued" and case["reply"] is None
    assert any("was refused: the reply window closed" in r for r in reasons(case))


async def test_the_employee_asks_for_more_time_and_only_the_chair_gives_it(
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    served = await serve_a_notice(intake, review_api, sessionmaker, queue)
    due_before = (await portal_notice(intake, served))["reply_due_on"]
    asked = await intake.post(
        f"/v1/notices/{served.notice_id}/replies",
        json={"extension": {"reason": "On medical leave until the 20th.", "working_days": 5}},
        headers=bearer(served.portal),
    )
    assert asked.status_code == 202, asked.text
    await pump(sessionmaker, queue)

    notice = await portal_notice(intake, served)
    assert notice["status"] == "extension_requested"
    assert notice["replies"][0]["kind"] == "extension_request"
    assert notice["replies"][0]["status"] == "awaiting_chair"
    case_id = uuid.UUID(served.case_id)
    [extension] = (await read_case(review_api, case_id, served.member))["extensions"]
    assert extension["requested_via"] == "portal" and extension["status"] == "requested"
    assert extension["working_days"] == 5

    decision_url = f"/v1/cases/{case_id}/extensions/{extension['id']}/decision"
    approve = {"decision": "approved", "reason": "Medical certificate on file."}
    refused = await review_api.post(decision_url, json=approve, headers=served.member.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "not-chair"
    assert "chair" in refused.json()["detail"]
    approved = await review_api.post(decision_url, json=approve, headers=served.unit.chair.headers)
    assert approved.status_code == 200, approved.text
    due_after = approved.json()["due_after"]
    assert due_after > due_before and approved.json()["due_before"] == due_before
    await pump(sessionmaker, queue)

    notice = await portal_notice(intake, served)
    assert notice["reply_due_on"] == due_after and notice["status"] == "awaiting_reply"
    assert notice["replies"][0]["status"] == "approved"
    case = await read_case(review_api, case_id, served.unit.chair)
    assert case["notice"]["reply_due_on"] == due_after
    assert any(r.startswith("extension approved by the chair") for r in reasons(case))


async def test_a_lapsed_window_shows_on_the_portals_notice(
    intake: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    served = await serve_a_notice(intake, review_api, sessionmaker, queue)
    await execute(
        sessionmaker,
        "UPDATE review.notice SET reply_due_on = :due WHERE case_id = :id",
        due=date.today() - timedelta(days=2),
        id=uuid.UUID(served.case_id),
    )
    await sweep_deadlines(worker_ctx(sessionmaker))
    await pump(sessionmaker, queue)

    notice = await portal_notice(intake, served)
    assert notice["status"] == "reply_window_lapsed"
    assert notice["history"][-1]["event"] == "reply_window_lapsed"
    # A reply now is refused by the unit, and the portal sees it.
    sent = await intake.post(
        f"/v1/notices/{served.notice_id}/replies", json=REPLY, headers=bearer(served.portal)
    )
    assert sent.status_code == 202, sent.text
    await pump(sessionmaker, queue)
    [answer] = (await portal_notice(intake, served))["replies"]
    assert answer["status"] == "refused"
    assert "no longer awaiting a reply" in answer["outcome"]
