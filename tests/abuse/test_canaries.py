"""S10: canary personal data and a canary credential seeded through a full flow leave no trace
where they must not be. The reporter's name, employee number and office (the reporter's
identity never leaves intake) appear in no log line, no Redis key or value of the run's
queues (jobs and arq's kept results), and no outbox envelope bound for review or registry;
the credential's secret appears in no log line and no error body."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator

import httpx
import pytest
import structlog
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog._config import BoundLoggerLazyProxy

from shared.logging import configure_logging
from shared.messages import SERVICES
from shared.settings import ServiceSettings
from tests.abuse.apps import service_client
from tests.abuse.redis_contents import redis_text
from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.review.steps import act, assignee_of, take_case_to
from tests.support import relay_outboxes, run_worker

pytestmark = pytest.mark.usefixtures("catalogue")
Sessionmaker = async_sessionmaker[AsyncSession]


async def envelopes_leaving_intake(sessionmaker: Sessionmaker) -> str:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT envelope::text FROM intake.outbox_message "
                    "UNION ALL SELECT envelope::text FROM review.outbox_message "
                    "UNION ALL SELECT envelope::text FROM registry.outbox_message"
                )
            )
        ).scalars()
        return "\n".join(rows)


async def move_everything(sessionmaker: Sessionmaker, queue: ArqRedis) -> str:
    """Relay and run workers until quiet, reading Redis while jobs wait and after they ran."""
    seen: list[str] = []
    for _ in range(10):
        handed = await relay_outboxes(sessionmaker, queue)
        seen.append(await redis_text(queue, prefix=ServiceSettings().queue_prefix))
        ran = sum([await run_worker(service, queue) for service in SERVICES])
        seen.append(await redis_text(queue, prefix=ServiceSettings().queue_prefix))
        if handed == 0 and ran == 0:
            return "\n".join(seen)
    raise AssertionError("messages still moving")


def forget_cached_loggers() -> None:
    """structlog caches each module's logger, with the stream it wrote to, on first use: make
    every one look its output up again, so this test's capture sees all of them (and, after it,
    nobody keeps writing to the capture once it is closed)."""
    for proxy in gc.get_objects():
        if isinstance(proxy, BoundLoggerLazyProxy):
            proxy.__dict__.pop("bind", None)


@pytest.fixture
def captured_logs(capfd: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    # The configuration before, whose stream outlives this test's capture, is put back after.
    before = structlog.get_config()
    forget_cached_loggers()
    configure_logging(json_lines=True)
    try:
        yield capfd
    finally:
        forget_cached_loggers()
        structlog.configure(**before)


async def test_canaries_leave_no_trace(
    sessionmaker: Sessionmaker, queue: ArqRedis, captured_logs: pytest.CaptureFixture[str]
) -> None:
    mark = uuid.uuid4().hex[:12].upper()
    reporter = {
        "employee_ref": f"CANARYEMP{mark}",
        "name": f"Canary Reporter {mark}",
        "office": f"Canary Office {mark}",
    }
    department = unique_code("DEPT")
    token = await create_client(
        sessionmaker, organisation_code=department, scopes=("reports:write", "status:read")
    )
    secret = token.split(".", 1)[1]
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    error_bodies: list[httpx.Response] = []
    async with service_client("intake") as intake, service_client("review") as review:
        report = await intake.post(
            "/v1/reports", json=report_body(reporter=reporter), headers=bearer(token)
        )
        assert report.status_code == 202, report.text
        # Errors answered to the canary credential: bad input (with the canary in it), an
        # unknown id, a key reused with another body, a scope it lacks, and the secret
        # itself sent as the key id.
        key = {"Idempotency-Key": uuid.uuid4().hex}
        keyed = await intake.post(
            "/v1/reports", json=report_body(), headers={**bearer(token), **key}
        )
        assert keyed.status_code == 202, keyed.text
        error_bodies += [
            await intake.post(
                "/v1/reports",
                json=report_body(reporter={**reporter, "name": ""}, surprise=secret),
                headers=bearer(token),
            ),
            await intake.get(f"/v1/reports/{uuid.uuid4()}", headers=bearer(token)),
            await intake.post("/v1/reports", json=report_body(), headers={**bearer(token), **key}),
            await intake.post("/v1/permission-requests", json={}, headers=bearer(token)),
            await intake.get("/v1/webhook", headers=bearer(f"{secret}.{secret}")),
            await intake.get("/v1/webhook", headers=bearer(f"{token}x")),
        ]
        in_redis = await move_everything(sessionmaker, queue)
        async with sessionmaker() as session:
            case_id = (
                await session.execute(
                    text("SELECT id FROM review.case WHERE submission_id = :id"),
                    {"id": uuid.UUID(report.json()["id"])},
                )
            ).scalar_one()
        member = await assignee_of(unit, case_id, review)
        await take_case_to(review, case_id, member, "determined")
        assert (await act(review, case_id, "countersign", unit.chair)).status_code == 200
        in_redis += await move_everything(sessionmaker, queue)
        status = await intake.get(f"/v1/reports/{report.json()['id']}", headers=bearer(token))
    logs = "".join(captured_logs.readouterr())
    envelopes = await envelopes_leaving_intake(sessionmaker)

    # The capture saw the flow: the APIs starting and every worker processing messages.
    assert "api started" in logs
    for message_type in ("report.received", "determination.recorded", "record.created"):
        assert f'"message_type": "{message_type}"' in logs
    assert status.json()["status"] != "received", status.text
    # Redis was read while the report's job waited or after it ran with its payload kept.
    assert report.json()["id"] in in_redis
    assert "reporter_ref" in envelopes, "the reporter travels only as a pseudonym"
    for canary in reporter.values():
        assert canary not in logs
        assert canary not in in_redis
        assert canary not in envelopes
    assert [answer.status_code >= 400 for answer in error_bodies] == [True] * len(error_bodies)
    for answer in error_bodies:
        assert secret not in answer.text, answer.text
        # Nor is the personal data of a refused body echoed back.
        assert all(canary not in answer.text for canary in reporter.values()), answer.text
    assert secret not in logs
