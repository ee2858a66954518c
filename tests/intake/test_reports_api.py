"""POST and GET /v1/reports over HTTP: who may call, what bad input gets, and that a refused
request writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.support import assert_problem
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("catalogue")

STORED_TABLES = (
    "intake.report",
    "intake.report_subject",
    "intake.evidence_item",
    "intake.outbox_message",
)


async def stored_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return {table: await count_rows(sessionmaker, table) for table in STORED_TABLES}


async def test_accepted_report_is_stored_with_its_outgoing_message(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    token = await create_client(sessionmaker, organisation_code=department)
    before = await stored_counts(sessionmaker)

    response = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "received"
    after = await stored_counts(sessionmaker)
    assert after["intake.report"] == before["intake.report"] + 1
    assert after["intake.outbox_message"] == before["intake.outbox_message"] + 1
    read = await intake_api.get(accepted["status_url"], headers=bearer(token))
    assert read.status_code == 200
    report = read.json()
    assert report["department"] == department
    assert [event["status"] for event in report["status_history"]] == ["received"]
    assert "reporter" not in report and "assignee_id" not in report


@pytest.mark.parametrize(
    ("headers", "case"),
    [
        ({}, "no credential"),
        ({"Authorization": "Bearer ck_0000000000000000.wrong"}, "unknown credential"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "wrong scheme"),
        ({"Authorization": "Bearer not-a-token"}, "malformed"),
    ],
)
async def test_missing_or_wrong_credential_gets_401_and_writes_nothing(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    headers: dict[str, str],
    case: str,
) -> None:
    before = await stored_counts(sessionmaker)
    response = await intake_api.post("/v1/reports", json=report_body(), headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await stored_counts(sessionmaker) == before, case


async def test_right_secret_of_another_key_is_refused(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    second = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    forged = first.split(".")[0] + "." + second.split(".", 1)[1]
    assert_problem(
        await intake_api.post("/v1/reports", json=report_body(), headers=bearer(forged)), 401
    )


async def test_credential_without_scope_or_of_an_institution_gets_403(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await create_client(
        sessionmaker, organisation_code=unique_code("DEPT"), scopes=("status:read",)
    )
    institution = await create_client(
        sessionmaker,
        organisation_code=unique_code("MTI"),
        organisation_kind="institution",
        scopes=("reports:write",),
    )
    before = await stored_counts(sessionmaker)
    for token in (reader, institution):
        response = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
        assert_problem(response, 403)
    assert await stored_counts(sessionmaker) == before


async def test_a_portal_cannot_read_another_departments_report(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    stranger = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    created = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(owner))
    report_url = created.json()["status_url"]

    assert_problem(await intake_api.get(report_url, headers=bearer(stranger)), 404)
    unknown = "/v1/reports/00000000-0000-0000-0000-000000000000"
    # The same answer for a report that does not exist: no way to probe for ids.
    assert_problem(await intake_api.get(unknown, headers=bearer(stranger)), 404)
    assert (await intake_api.get(report_url, headers=bearer(owner))).status_code == 200


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != field}


BAD_REPORTS: list[tuple[str, dict[str, Any], str]] = [
    ("missing subjects", without(report_body(), "subjects"), "subjects"),
    ("missing platform", without(report_body(), "platform"), "platform"),
    ("no subjects", report_body(subjects=[]), "subjects"),
    (
        "subject without name",
        report_body(subjects=[{"employee_ref": "E1", "designation": "x", "office": "y"}]),
        "subjects.0.name",
    ),
    ("platform not offered", report_body(platform="myspace"), "platform"),
    ("rules not a list", report_body(rules_alleged="CR1964-22"), "rules_alleged"),
    ("posted_at not a date", report_body(posted_at="yesterday"), "posted_at"),
    ("posted_at without zone", report_body(posted_at="2026-11-01T10:00:00"), "posted_at"),
    ("link not http", report_body(content_url="file:///etc/passwd"), "content_url"),
    ("excerpt too long", report_body(content_excerpt="x" * 5001), "content_excerpt"),
    ("server-owned status", report_body(status="recorded"), "status"),
    ("server-owned id", report_body(id="00000000-0000-0000-0000-000000000001"), "id"),
    ("server-owned department", report_body(department="OTHER"), "department"),
    ("unknown rule", report_body(rules_alleged=["CR1964-22", "NO-SUCH-RULE"]), "rules_alleged.1"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_REPORTS, ids=[c[0] for c in BAD_REPORTS])
async def test_bad_report_gets_422_naming_the_field_and_writes_nothing(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    body: dict[str, Any],
    field: str,
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    before = await stored_counts(sessionmaker)

    response = await intake_api.post("/v1/reports", json=body, headers=bearer(token))

    problem = assert_problem(response, 422)
    assert field in {error["field"] for error in problem["errors"]}, problem
    assert await stored_counts(sessionmaker) == before


async def test_body_that_is_not_json_gets_422(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    response = await intake_api.post(
        "/v1/reports",
        content=b"{not json",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_problem(response, 422)


async def test_oversized_body_gets_413_before_parsing_and_writes_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    before = await stored_counts(sessionmaker)
    huge = report_body(content_excerpt="x" * 2_000_000)

    response = await intake_api.post("/v1/reports", json=huge, headers=bearer(token))

    assert_problem(response, 413)
    assert await stored_counts(sessionmaker) == before


async def test_health_endpoints(intake_api: httpx.AsyncClient) -> None:
    assert (await intake_api.get("/healthz")).json() == {"status": "ok"}
    ready = await intake_api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "rules catalogue": "ok", "redis": "ok"}
