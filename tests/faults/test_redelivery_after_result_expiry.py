"""F9: arq forgets a job once its result expires, so the same message can be enqueued again
under the same job id and run a second time. The inbox makes that second run a no-op: for
every message type the services consume from each other (report.received,
permission.requested, violator_list.entries_stored and .entry_received, determination.recorded,
permission.decided, case.status_changed, record.created), each message of a full flow is
enqueued again after its result key is gone, every copy runs, and no row of any table
changes."""

from __future__ import annotations

import json
import uuid
from typing import cast

import httpx
import pytest
from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import SERVICES, Service
from shared.queue import job_id, queue_name
from shared.settings import ServiceSettings
from tests.abuse.rows import all_row_counts
from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
    violator_row,
)
from tests.permission_factories import personal_request_body
from tests.review.steps import act, assignee_of, take_case_to
from tests.support import pump, run_worker

pytestmark = pytest.mark.usefixtures("catalogue")
Sessionmaker = async_sessionmaker[AsyncSession]
CONSUMED = frozenset(
    {
        "report.received",
        "permission.requested",
        "violator_list.entries_stored",
        "violator_list.entry_received",
        "determination.recorded",
        "permission.decided",
        "case.status_changed",
        "record.created",
    }
)


async def case_of(sessionmaker: Sessionmaker, submission_id: str) -> uuid.UUID:
    async with sessionmaker() as session:
        case_id: uuid.UUID = (
            await session.execute(
                text("SELECT id FROM review.case WHERE submission_id = :id"),
                {"id": uuid.UUID(submission_id)},
            )
        ).scalar_one()
    return case_id


async def run_full_flow(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: Sessionmaker,
    queue: ArqRedis,
) -> None:
    """A report to a countersigned violation, a refused permission request, a violator list."""
    department = unique_code("DEPT")
    portal = bearer(
        await create_client(
            sessionmaker,
            organisation_code=department,
            scopes=("reports:write", "permissions:write", "status:read"),
        )
    )
    institution = bearer(
        await create_client(
            sessionmaker,
            organisation_code=unique_code("MTI"),
            organisation_kind="institution",
            scopes=("violator-lists:write",),
        )
    )
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    report = await intake_api.post("/v1/reports", json=report_body(), headers=portal)
    request = await intake_api.post(
        "/v1/permission-requests", json=personal_request_body(), headers=portal
    )
    listed = await intake_api.post(
        "/v1/violator-lists",
        json={"batch_key": uuid.uuid4().hex, "rows": [violator_row(1)]},
        headers=institution,
    )
    assert [r.status_code for r in (report, request, listed)] == [202, 202, 201]
    await pump(sessionmaker, queue)

    case_id = await case_of(sessionmaker, report.json()["id"])
    member = await assignee_of(unit, case_id, review_api)
    await take_case_to(review_api, case_id, member, "determined")
    assert (await act(review_api, case_id, "countersign", unit.chair)).status_code == 200
    permission_case = await case_of(sessionmaker, request.json()["id"])
    deciding = await assignee_of(unit, permission_case, review_api)
    decision = {"decision": "refused", "reasons": "The account mixes official and personal use."}
    answer = await act(review_api, permission_case, "permission-decision", deciding, decision)
    assert answer.status_code == 200, answer.text
    await pump(sessionmaker, queue)


async def messages_since(sessionmaker: Sessionmaker, moment: object) -> list[tuple[str, ...]]:
    """(producer, message id, destination, type, envelope) of each outbox row since `moment`."""
    rows: list[tuple[str, ...]] = []
    async with sessionmaker() as session:
        for service in SERVICES:
            found = await session.execute(
                text(
                    f"SELECT message_id::text, destination, message_type, envelope::text "
                    f"FROM {service}.outbox_message WHERE created_at >= :moment "
                    "AND message_type = ANY(:types)"
                ),
                {"moment": moment, "types": sorted(CONSUMED)},
            )
            rows += [(service, *row) for row in found.all()]
    return rows


async def test_a_message_enqueued_again_after_its_result_expired_changes_nothing(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: Sessionmaker,
    queue: ArqRedis,
) -> None:
    async with sessionmaker() as session:
        start = (await session.execute(text("SELECT now()"))).scalar_one()
    await run_full_flow(intake_api, review_api, sessionmaker, queue)
    messages = await messages_since(sessionmaker, start)
    assert {row[3] for row in messages} == CONSUMED
    before = await all_row_counts(sessionmaker)

    settings = ServiceSettings()
    for _, message_id, consumer, message_type, envelope in messages:
        destination = cast(Service, consumer)
        job = job_id(settings, uuid.UUID(message_id), destination)
        # What the result's expiry does: arq no longer knows the job ran.
        assert await queue.delete(result_key_prefix + job) == 1, f"{message_type} left no result"
        again = await queue.enqueue_job(
            message_type,
            json.loads(envelope),
            _job_id=job,
            _queue_name=queue_name(settings, destination),
        )
        assert again is not None, f"arq refused to enqueue {message_type} again"
    ran = 0
    for service in SERVICES:
        ran += await run_worker(service, queue)

    assert ran == len(messages)
    assert await all_row_counts(sessionmaker) == before
