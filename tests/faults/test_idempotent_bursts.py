"""F5/F6: fifty copies of one request under one Idempotency-Key, sent at once, to every intake
POST that honours the key (reports, permission requests, violator lists, evidence uploads and
their hand-overs): exactly one row is stored, every 2xx answer is byte-identical, and every
other answer is 409 idempotency-key-in-use with Retry-After; a retry then gets the one answer.
tests/intake/test_idempotency_api.py covers the single-copy cases for reports."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.abuse.apps import service_client
from tests.factories import bearer, create_client, report_body, unique_code, violator_row
from tests.intake.evidence_support import PDF
from tests.intake.support import assert_problem
from tests.permission_factories import personal_request_body

pytestmark = pytest.mark.usefixtures("catalogue")
Sessionmaker = async_sessionmaker[AsyncSession]
COPIES = 50

# name -> (organisation kind, scopes, path, request options, rows of the caller counted by)
Case = tuple[str, tuple[str, ...], str, Callable[[], dict[str, Any]], str]
CASES: dict[str, Case] = {
    "report": (
        "department",
        ("reports:write",),
        "/v1/reports",
        lambda: {"json": report_body()},
        "SELECT count(*) FROM intake.report WHERE department = :org",
    ),
    "permission request": (
        "department",
        ("permissions:write",),
        "/v1/permission-requests",
        lambda: {"json": personal_request_body()},
        "SELECT count(*) FROM intake.permission_request WHERE department = :org",
    ),
    "violator list": (
        "institution",
        ("violator-lists:write",),
        "/v1/violator-lists",
        lambda: {"json": {"batch_key": uuid.uuid4().hex, "rows": [violator_row(1)]}},
        "SELECT count(*) FROM intake.violator_list_batch WHERE institution = :org",
    ),
    "evidence upload": (
        "department",
        ("reports:write",),
        "/v1/evidence-files",
        lambda: {"content": PDF, "headers": {"Content-Type": "application/pdf"}},
        "SELECT count(*) FROM intake.evidence_file WHERE department = :org",
    ),
}


async def count(sessionmaker: Sessionmaker, sql: str, **params: Any) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(text(sql), params)).scalar_one())


async def burst(
    api: httpx.AsyncClient, path: str, token: str, options: dict[str, Any]
) -> list[httpx.Response]:
    key = str(uuid.uuid4())
    headers = {**bearer(token), "Idempotency-Key": key, **options.get("headers", {})}
    send = {name: value for name, value in options.items() if name != "headers"}
    answers = await asyncio.gather(
        *(api.post(path, headers=headers, **send) for _ in range(COPIES))
    )
    retry = await api.post(path, headers=headers, **send)
    return [*answers, retry]


def assert_one_answer(answers: list[httpx.Response]) -> None:
    served = [answer for answer in answers if answer.is_success]
    assert served, [answer.text for answer in answers[:3]]
    assert {answer.content for answer in served} == {served[0].content}
    for answer in answers:
        if not answer.is_success:
            assert assert_problem(answer, 409)["code"] == "idempotency-key-in-use"
            assert int(answer.headers["retry-after"]) >= 1
    assert answers[-1].is_success, "the retry after the burst gets the one answer"


@pytest.mark.parametrize("name", sorted(CASES))
async def test_fifty_copies_at_once_store_one_row(
    name: str, sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    kind, scopes, path, options, counted_by = CASES[name]
    organisation = unique_code("ORG")
    token = await create_client(
        sessionmaker,
        organisation_code=organisation,
        organisation_kind=kind,  # type: ignore[arg-type]
        scopes=scopes,
    )
    async with service_client(
        "intake", rate_limit_per_minute=100_000, evidence_directory=str(tmp_path)
    ) as api:
        answers = await burst(api, path, token, options())
    assert_one_answer(answers)
    assert await count(sessionmaker, counted_by, org=organisation) == 1


async def test_fifty_copies_of_a_hand_over_add_one_custody_line(
    sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    token = await create_client(
        sessionmaker, organisation_code=unique_code("DEPT"), scopes=("reports:write",)
    )
    async with service_client(
        "intake", rate_limit_per_minute=100_000, evidence_directory=str(tmp_path)
    ) as api:
        upload = await api.post(
            "/v1/evidence-files",
            content=PDF,
            headers={**bearer(token), "Content-Type": "application/pdf"},
        )
        file_id = upload.json()["id"]
        answers = await burst(
            api,
            f"/v1/evidence-files/{file_id}/hand-overs",
            token,
            {"json": {"recipient": "Inquiry officer", "note": "Sealed copy"}},
        )
    assert_one_answer(answers)
    handed = await count(
        sessionmaker,
        "SELECT count(*) FROM intake.custody_line "
        "WHERE evidence_file_id = :id AND action = 'handed_over'",
        id=uuid.UUID(file_id),
    )
    assert handed == 1
