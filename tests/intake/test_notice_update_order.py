"""A notice and its updates converge whatever order the queue hands them to intake: an update
that comes before its notice (notice.updated before notice.served) is kept and applied when the
notice arrives, and every message takes effect once however often it is delivered."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import Envelope, MessagePayload, NoticeServed, NoticeUpdated
from shared.queue import job_id, queue_name
from shared.settings import ServiceSettings
from tests.factories import bearer, create_client, unique_code
from tests.support import count_rows, run_worker

SERVED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DUE = date(2026, 11, 20)


def messages(department: str) -> tuple[Envelope, Envelope, Envelope]:
    """A notice served on one case, the employee's request for more time (asked by the member)
    and the chair's approval, which moves the reply date."""
    case_id = uuid.uuid4()

    def wrap(payload: MessagePayload) -> Envelope:
        return Envelope.wrap(payload, producer="review", correlation_id="notice-order")

    served = NoticeServed(
        case_id=case_id,
        submission_id=uuid.uuid4(),
        department=department,
        employee_ref=f"EMP-{uuid.uuid4().hex[:6]}",
        employee_name="Kamran Yousaf",
        reply_due_on=DUE,
        served_at=SERVED_AT,
        notice={"allegations": "Rule 22.", "charges": [], "evidence": []},
    )
    asked = NoticeUpdated(
        case_id=case_id,
        event="extension_requested",
        reply_due_on=DUE,
        detail="5 working day(s) asked: the employee is on leave",
        occurred_at=SERVED_AT + timedelta(hours=1),
    )
    approved = NoticeUpdated(
        case_id=case_id,
        event="extension_approved",
        reply_due_on=DUE + timedelta(days=7),
        detail="approved by the chair: leave confirmed",
        occurred_at=SERVED_AT + timedelta(hours=2),
    )
    return wrap(served), wrap(asked), wrap(approved)


async def deliver(queue: ArqRedis, *envelopes: Envelope) -> None:
    """Each message handed to intake's worker on its own, in this order, each time as a new
    job (as a redelivery after the first job's result expired would be)."""
    settings = ServiceSettings()
    for envelope in envelopes:
        await queue.enqueue_job(
            envelope.type,
            envelope.model_dump(mode="json"),
            _job_id=f"{job_id(settings, envelope.message_id, 'intake')}:{uuid.uuid4()}",
            _queue_name=queue_name(settings, "intake"),
        )
        await run_worker("intake", queue)


async def portal_view(
    intake_api: httpx.AsyncClient, portal: str, employee_ref: str
) -> dict[str, Any]:
    listed = await intake_api.get(
        "/v1/notices", params={"employee_ref": employee_ref}, headers=bearer(portal)
    )
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    notice = await intake_api.get(f"/v1/notices/{item['id']}", headers=bearer(portal))
    assert notice.status_code == 200, notice.text
    read: dict[str, Any] = notice.json()
    return read


def comparable(notice: dict[str, Any]) -> dict[str, Any]:
    """What the portal sees, less what differs between two notices by nature (ids, employee)."""
    return {
        "status": notice["status"],
        "reply_due_on": notice["reply_due_on"],
        "history": [
            (event["event"], event["detail"], event["occurred_at"]) for event in notice["history"]
        ],
    }


@pytest.mark.parametrize(
    "order",
    [(0, 1, 2), (1, 0, 2), (1, 2, 0), (2, 1, 0)],
    ids=["in order", "request first", "both updates first", "all reversed"],
)
async def test_a_notice_and_its_updates_converge_whatever_the_order_once_each(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    order: tuple[int, int, int],
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(
        sessionmaker,
        organisation_code=department,
        scopes=("reports:write", "status:read", "notices:respond"),
    )
    in_order = messages(department)
    shuffled = messages(department)
    employee = {
        envelope.payload["employee_ref"]: envelope for envelope in (in_order[0], shuffled[0])
    }
    assert len(employee) == 2

    await deliver(queue, *in_order)
    arrived = [shuffled[index] for index in order]
    await deliver(queue, *arrived)
    # Redelivered, in any order again, they change nothing.
    await deliver(queue, *reversed(arrived), *arrived)

    expected = comparable(
        await portal_view(intake_api, portal, in_order[0].payload["employee_ref"])
    )
    got = comparable(await portal_view(intake_api, portal, shuffled[0].payload["employee_ref"]))
    assert got == expected
    assert expected["status"] == "awaiting_reply"
    assert expected["reply_due_on"] == str(DUE + timedelta(days=7))
    assert [event for event, _, _ in expected["history"]] == [
        "served",
        "extension_requested",
        "extension_approved",
    ]


async def test_an_update_waiting_for_its_notice_is_kept_once_and_shown_to_nobody(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(
        sessionmaker,
        organisation_code=department,
        scopes=("reports:write", "status:read", "notices:respond"),
    )
    served, asked, _ = messages(department)
    waiting_before = await count_rows(sessionmaker, "intake.pending_notice_update")

    await deliver(queue, asked, asked)

    assert await count_rows(sessionmaker, "intake.pending_notice_update") == waiting_before + 1
    listed = await intake_api.get(
        "/v1/notices",
        params={"employee_ref": served.payload["employee_ref"]},
        headers=bearer(portal),
    )
    assert listed.json()["items"] == []

    await deliver(queue, served)

    assert await count_rows(sessionmaker, "intake.pending_notice_update") == waiting_before
    notice = await portal_view(intake_api, portal, served.payload["employee_ref"])
    assert notice["status"] == "extension_requested"
    assert [event["event"] for event in notice["history"]] == ["served", "extension_requested"]
