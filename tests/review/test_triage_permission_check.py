"""The permission check at triage, end to end: a portal's report opens a case; review's worker
asks registry over real HTTP (registry's API served by uvicorn, review holding a registry reader
credential) whether the subject was permitted on the post's date; the case shows the answer,
with registry's record, and its history says so before anyone acts. With registry down the
answer is 'unknown', and says why."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.app import create_app as create_registry_app
from services.registry.permissions.recording import record_permission_decision
from services.review.settings import get_settings
from services.review.triage.tasks import recheck_unanswered_permission_checks
from shared.db import unit_of_work
from tests.factories import (
    SeededUnit,
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.registry.factories import (
    issue_reader,
    official_account_decision,
    personal_permission_decision,
)
from tests.review.steps import SCREEN, act, execute, read_case, worker_ctx
from tests.stack import free_port
from tests.support import pump

pytestmark = pytest.mark.usefixtures("catalogue")


@asynccontextmanager
async def registry_over_http() -> AsyncIterator[str]:
    """registry's API on a real port, in this event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_registry_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
def review_asks_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point review's settings at a registry URL with a reader token (read fresh by the
    worker's handlers and the API), and put them back afterwards."""

    def configure(url: str, token: str) -> None:
        monkeypatch.setenv("REVIEW_REGISTRY_URL", url)
        monkeypatch.setenv("REVIEW_REGISTRY_READER_TOKEN", token)
        monkeypatch.setenv("REVIEW_REGISTRY_ATTEMPTS", "2")
        monkeypatch.setenv("REVIEW_REGISTRY_TIMEOUT_SECONDS", "1")
        get_settings.cache_clear()

    yield configure
    monkeypatch.undo()
    get_settings.cache_clear()


async def report_and_read_case(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    *,
    portal: str,
    unit: SeededUnit,
    employee_ref: str,
    handle: str,
    platform: str = "facebook",
) -> tuple[dict[str, Any], Any]:
    post = f"https://facebook.example/posts/{uuid.uuid4().hex[:8]}"
    body = report_body(platform=platform, posted_at="2026-11-01T10:00:00+05:00", content_url=post)
    body["evidence"][0]["url"] = post
    body["subjects"][0]["employee_ref"] = employee_ref
    body["evidence"][0]["author_handle"] = handle
    accepted = await intake_api.post("/v1/reports", json=body, headers=bearer(portal))
    assert accepted.status_code == 202, accepted.text
    await pump(sessionmaker, queue)
    for member in unit.members:
        for item in (await review_api.get("/v1/cases", headers=member.headers)).json()["items"]:
            if item["submission_id"] == accepted.json()["id"]:
                case = await review_api.get(f"/v1/cases/{item['id']}", headers=member.headers)
                return case.json(), member
    raise AssertionError("the report opened no case")


def triage_notes(case: dict[str, Any]) -> list[str]:
    return [e["reason"] for e in case["history"] if e["reason"].startswith("permission check")]


async def test_the_case_shows_registrys_answer_before_anyone_acts(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    review_asks_registry: Any,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    employee_ref = f"EMP-{uuid.uuid4().hex[:6]}"
    handle = f"@dr_{uuid.uuid4().hex[:6]}"
    official = f"health.{uuid.uuid4().hex[:6]}"
    async with unit_of_work(sessionmaker) as session:
        grant = await record_permission_decision(
            session,
            decision=personal_permission_decision(
                employee_ref=employee_ref,
                department=department,
                platform="facebook",
                account_handle=handle,
                valid_from=date(2026, 1, 1),
                expires_on=date(2026, 12, 31),
            ),
            correlation_id="triage-test",
        )
        account = await record_permission_decision(
            session,
            decision=official_account_decision(department=department, account_handle=official),
            correlation_id="triage-test",
        )
    assert grant is not None and account is not None
    token = await issue_reader(sessionmaker, role="auditor")

    async with registry_over_http() as url:
        review_asks_registry(url, token)
        permitted, member = await report_and_read_case(
            intake_api,
            review_api,
            sessionmaker,
            queue,
            portal=portal,
            unit=unit,
            employee_ref=employee_ref,
            handle=handle.upper().lstrip("@"),
        )
        unpermitted, _ = await report_and_read_case(
            intake_api,
            review_api,
            sessionmaker,
            queue,
            portal=portal,
            unit=unit,
            employee_ref=employee_ref,
            handle="@someone_else",
        )
        from_official, _ = await report_and_read_case(
            intake_api,
            review_api,
            sessionmaker,
            queue,
            portal=portal,
            unit=unit,
            employee_ref=f"EMP-{uuid.uuid4().hex[:6]}",
            handle=official,
        )

    check = permitted["permission_check"]
    assert check["status"] == "permitted"
    assert check["record_id"] == str(grant.id) and check["record_kind"] == "permission"
    assert check["checked_on"] == "2026-11-01"
    assert permitted["state"] == "assigned"
    [note] = triage_notes(permitted)
    assert note.startswith("permission check at triage: permitted") and str(grant.id) in note

    assert unpermitted["permission_check"]["status"] == "not_permitted"
    assert unpermitted["permission_check"]["record_id"] is None
    assert triage_notes(unpermitted)[0].startswith("permission check at triage: not permitted")

    assert from_official["permission_check"]["status"] == "permitted"
    assert from_official["permission_check"]["record_id"] == str(account.id)
    assert from_official["permission_check"]["record_kind"] == "official_account"

    # The screen comes after the answer, and the member acts on an answered case.
    screened = await act(review_api, uuid.UUID(permitted["id"]), "screen", member, SCREEN)
    assert screened.status_code == 200, screened.text


async def last_asked(sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID) -> Any:
    """When the check was last asked (a recheck moves it when it asks again)."""
    async with sessionmaker() as session:
        return (
            await session.execute(
                text("SELECT checked_at FROM review.permission_check WHERE case_id = :id"),
                {"id": case_id},
            )
        ).scalar_one()


async def test_with_registry_down_the_answer_is_unknown_and_says_why(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    review_asks_registry: Any,
) -> None:
    department = unique_code("DEPT")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    # Nothing listens on this port: every attempt is refused.
    review_asks_registry(f"http://127.0.0.1:{free_port()}", "rk_nobody.secret")

    case, member = await report_and_read_case(
        intake_api,
        review_api,
        sessionmaker,
        queue,
        portal=portal,
        unit=unit,
        employee_ref=f"EMP-{uuid.uuid4().hex[:6]}",
        handle="@kamran",
    )

    check = case["permission_check"]
    assert check["status"] == "unknown" and check["record_id"] is None
    assert "registry unreachable after 2 attempt(s)" in check["reason"]
    [note] = triage_notes(case)
    assert note.startswith("permission check at triage: unknown: registry unreachable")
    # Unknown is an answer: the member may go on, knowing registry could not say.
    case_id = uuid.UUID(case["id"])
    screened = await act(review_api, case_id, "screen", member, SCREEN)
    assert screened.status_code == 200, screened.text

    # Registry back: the scheduled recheck asks again once the interval has passed.
    token = await issue_reader(sessionmaker, role="auditor")
    async with registry_over_http() as url:
        review_asks_registry(url, token)
        ctx = worker_ctx(sessionmaker, get_settings())
        # Other tests' unanswered checks in this run's database may be due; this one is not.
        asked = await last_asked(sessionmaker, case_id)
        await recheck_unanswered_permission_checks(ctx)
        assert await last_asked(sessionmaker, case_id) == asked
        await execute(
            sessionmaker,
            "UPDATE review.permission_check SET checked_at = now() - interval '1 hour' "
            "WHERE case_id = :id",
            id=case_id,
        )
        assert await recheck_unanswered_permission_checks(ctx) >= 1
        await pump(sessionmaker, queue)
    rechecked = await read_case(review_api, case_id, member)
    assert rechecked["permission_check"]["status"] == "not_permitted"
    notes = triage_notes(rechecked)
    assert len(notes) == 2 and notes[-1].startswith("permission check at triage: not permitted")


async def test_a_report_without_an_account_or_a_date_is_unknown_at_once(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Tried: a report whose evidence names no author handle and that gives no post date."""
    from tests.factories import open_report_case
    from tests.review.steps import assignee_of

    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    case_id = await open_report_case(sessionmaker, department=department)
    member = await assignee_of(unit, case_id, review_api)
    check = (await read_case(review_api, case_id, member))["permission_check"]
    assert check["status"] == "unknown" and "no date for the post" in check["reason"]
