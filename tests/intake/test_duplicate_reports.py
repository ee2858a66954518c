"""Duplicate reports over HTTP: the same link or snapshot about the same subject within the
window joins the open report (the caller is told, no second case is opened); outside the window,
about someone else, after the case is over, or in another department, it is a report of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import bearer, report_body
from tests.intake.evidence_support import PDF, PNG, department_token, upload
from tests.intake.support import intake_client

pytestmark = pytest.mark.usefixtures("catalogue")

POST_URL = "https://facebook.example/posts/"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with intake_client(evidence_directory=str(tmp_path / "evidence")) as client:
        yield client


def subject(employee_ref: str) -> dict[str, Any]:
    return {
        "employee_ref": employee_ref,
        "name": "Kamran Yousaf",
        "designation": "Medical Officer",
        "office": "District Headquarters Hospital",
    }


def report_about(
    *employee_refs: str, content_url: str | None, snapshot_file_id: str | None = None
) -> dict[str, Any]:
    evidence: list[dict[str, Any]] = [{"kind": "screenshot", "description": "Captured by hand"}]
    if snapshot_file_id is not None:
        evidence[0]["snapshot_file_id"] = snapshot_file_id
    return report_body(
        subjects=[subject(ref) for ref in employee_refs],
        content_url=content_url,
        evidence=evidence,
    )


async def report_received_messages(
    sessionmaker: async_sessionmaker[AsyncSession], report_id: str
) -> int:
    async with sessionmaker() as session:
        return int(
            (
                await session.execute(
                    text(
                        "SELECT count(*) FROM intake.outbox_message "
                        "WHERE message_type = 'report.received' "
                        "AND envelope -> 'payload' ->> 'report_id' = :report_id"
                    ),
                    {"report_id": report_id},
                )
            ).scalar_one()
        )


async def submit(api: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1/reports", json=body, headers=bearer(token))
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def assert_opens_a_case(
    sessionmaker: async_sessionmaker[AsyncSession], accepted: dict[str, Any]
) -> None:
    assert accepted["status"] == "received" and accepted["duplicate_of"] is None
    assert await report_received_messages(sessionmaker, accepted["id"]) == 1


async def assert_linked_to(
    api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    token: str,
    accepted: dict[str, Any],
    original: dict[str, Any],
) -> None:
    assert accepted["status"] == "linked"
    assert accepted["duplicate_of"] == original["id"]
    assert await report_received_messages(sessionmaker, accepted["id"]) == 0
    shown = (await api.get(accepted["status_url"], headers=bearer(token))).json()
    assert shown["duplicate_of"] == original["id"] and shown["status"] == "linked"
    assert [event["status"] for event in shown["status_history"]] == ["linked"]


async def test_the_same_link_about_the_same_subject_joins_the_open_report(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"
    original = await submit(api, token, report_about(employee, content_url=link))

    repeat = await submit(api, token, report_about(employee, content_url=link))

    await assert_opens_a_case(sessionmaker, original)
    await assert_linked_to(api, sessionmaker, token, repeat, original)
    # A third copy joins the same open report, not the second.
    third = await submit(api, token, report_about(employee, content_url=link))
    await assert_linked_to(api, sessionmaker, token, third, original)


async def test_the_same_snapshot_about_the_same_subject_joins_the_open_report(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    first_upload = (await upload(api, token, PNG, "image/png")).json()["id"]
    # Another portal user uploads the same screenshot again and reports it without a link.
    second_upload = (await upload(api, token, PNG, "image/png")).json()["id"]
    original = await submit(
        api,
        token,
        report_about(employee, content_url=f"{POST_URL}a", snapshot_file_id=first_upload),
    )

    repeat = await submit(
        api, token, report_about(employee, content_url=None, snapshot_file_id=second_upload)
    )

    await assert_opens_a_case(sessionmaker, original)
    await assert_linked_to(api, sessionmaker, token, repeat, original)


async def test_a_different_snapshot_without_a_link_is_a_report_of_its_own(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    png = (await upload(api, token, PNG, "image/png")).json()["id"]
    pdf = (await upload(api, token, PDF, "application/pdf")).json()["id"]
    await submit(api, token, report_about(employee, content_url=None, snapshot_file_id=png))

    other = await submit(api, token, report_about(employee, content_url=None, snapshot_file_id=pdf))

    await assert_opens_a_case(sessionmaker, other)


async def test_a_repeat_after_the_window_opens_a_case_of_its_own(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"
    original = await submit(api, token, report_about(employee, content_url=link))
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE intake.report SET received_at = now() - interval '31 days' WHERE id = :id"
            ),
            {"id": original["id"]},
        )

    repeat = await submit(api, token, report_about(employee, content_url=link))

    await assert_opens_a_case(sessionmaker, repeat)


async def test_the_window_is_configurable(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"
    async with intake_client(evidence_directory=str(tmp_path), duplicate_window_days=60) as api:
        original = await submit(api, token, report_about(employee, content_url=link))
        async with sessionmaker() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE intake.report SET received_at = now() - interval '45 days' "
                    "WHERE id = :id"
                ),
                {"id": original["id"]},
            )
        repeat = await submit(api, token, report_about(employee, content_url=link))
        await assert_linked_to(api, sessionmaker, token, repeat, original)


async def test_the_same_link_about_someone_else_is_a_report_of_its_own(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    first, second = (f"EMP-{uuid.uuid4().hex[:6]}" for _ in range(2))
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"
    await submit(api, token, report_about(first, content_url=link))

    about_someone_else = await submit(api, token, report_about(second, content_url=link))
    # Naming the first subject and another: the other's allegation must not be lost.
    about_both = await submit(api, token, report_about(first, second, content_url=link))

    await assert_opens_a_case(sessionmaker, about_someone_else)
    await assert_opens_a_case(sessionmaker, about_both)


async def test_a_repeat_after_the_case_is_over_opens_a_case_of_its_own(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"
    original = await submit(api, token, report_about(employee, content_url=link))
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE intake.report SET status = 'dismissed' WHERE id = :id"),
            {"id": original["id"]},
        )

    repeat = await submit(api, token, report_about(employee, content_url=link))

    await assert_opens_a_case(sessionmaker, repeat)


async def test_another_departments_report_is_never_joined(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    _, other_token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"
    await submit(api, token, report_about(employee, content_url=link))

    elsewhere = await submit(api, other_token, report_about(employee, content_url=link))

    await assert_opens_a_case(sessionmaker, elsewhere)


async def test_copies_sent_at_once_open_one_case(
    api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await department_token(sessionmaker)
    employee = f"EMP-{uuid.uuid4().hex[:6]}"
    link = f"{POST_URL}{uuid.uuid4().hex[:6]}"

    answers = await asyncio.gather(
        *(submit(api, token, report_about(employee, content_url=link)) for _ in range(5))
    )

    opened = [answer for answer in answers if answer["duplicate_of"] is None]
    assert len(opened) == 1
    assert {answer["duplicate_of"] for answer in answers if answer not in opened} == {
        opened[0]["id"]
    }
