"""POST and GET /v1/permission-requests over HTTP: personal requests and official accounts,
who may call, what bad input gets, that a retry with the same Idempotency-Key stores nothing
new, and that a refused request writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import bearer, create_client, unique_code
from tests.intake.support import assert_problem
from tests.permission_factories import PORTAL_SCOPES, official_account_body, personal_request_body
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("catalogue")

URL = "/v1/permission-requests"
STORED_TABLES = (
    "intake.permission_request",
    "intake.account_moderator",
    "intake.submission_status_event",
    "intake.outbox_message",
)


async def stored_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return {table: await count_rows(sessionmaker, table) for table in STORED_TABLES}


async def new_portal(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    department = unique_code("DEPT")
    token = await create_client(sessionmaker, organisation_code=department, scopes=PORTAL_SCOPES)
    return department, token


async def staged_payload(
    sessionmaker: async_sessionmaker[AsyncSession], request_id: str
) -> dict[str, Any]:
    async with sessionmaker() as session:
        envelope: dict[str, Any] = (
            await session.execute(
                text(
                    "SELECT envelope FROM intake.outbox_message "
                    "WHERE envelope->>'type' = 'permission.requested' "
                    "AND envelope->'payload'->>'request_id' = :id"
                ),
                {"id": request_id},
            )
        ).scalar_one()
    payload: dict[str, Any] = envelope["payload"]
    return payload


async def test_a_personal_request_is_stored_with_its_outgoing_message(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    before = await stored_counts(sessionmaker)
    body = personal_request_body()

    response = await intake_api.post(URL, json=body, headers=bearer(token))

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "received"
    assert response.headers["location"] == accepted["status_url"] == f"{URL}/{accepted['id']}"
    after = await stored_counts(sessionmaker)
    assert after["intake.permission_request"] == before["intake.permission_request"] + 1
    assert after["intake.outbox_message"] == before["intake.outbox_message"] + 1
    read = await intake_api.get(accepted["status_url"], headers=bearer(token))
    assert read.status_code == 200, read.text
    request = read.json()
    assert request["department"] == department
    assert request["kind"] == "personal"
    assert request["applicant"] == body["applicant"]
    assert request["moderators"] == [] and request["account_purpose"] is None
    assert [event["status"] for event in request["status_history"]] == ["received"]
    assert "assignee_id" not in request and "case_id" not in request
    payload = await staged_payload(sessionmaker, accepted["id"])
    assert payload["department"] == department
    assert payload["applicant"] == body["applicant"]
    assert payload["moderators"] == []


async def test_an_official_account_request_names_its_moderators(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    renewed = str(uuid.uuid4())
    body = official_account_body(renewal_of=renewed)

    response = await intake_api.post(URL, json=body, headers=bearer(token))

    assert response.status_code == 202, response.text
    request = (await intake_api.get(response.json()["status_url"], headers=bearer(token))).json()
    assert request["kind"] == "official_account"
    assert request["account_purpose"] == "complaints"
    assert request["moderators"] == body["moderators"]
    assert request["applicant"] is None
    assert request["renewal_of"] == renewed
    payload = await staged_payload(sessionmaker, request["id"])
    assert payload["moderators"] == body["moderators"]
    assert payload["account_purpose"] == "complaints"
    assert payload["renewal_of"] == renewed
    assert payload["applicant"] is None


async def test_without_the_scope_or_of_an_institution_gets_403_and_writes_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A report-writing portal has no permissions:write; an institution is not a department.
    reports_only = await create_client(
        sessionmaker,
        organisation_code=unique_code("DEPT"),
        scopes=("reports:write", "status:read"),
    )
    institution = await create_client(
        sessionmaker,
        organisation_code=unique_code("MTI"),
        organisation_kind="institution",
        scopes=PORTAL_SCOPES,
    )
    before = await stored_counts(sessionmaker)
    for token in (reports_only, institution):
        response = await intake_api.post(URL, json=personal_request_body(), headers=bearer(token))
        assert_problem(response, 403)
    assert await stored_counts(sessionmaker) == before


async def test_no_credential_gets_401_and_writes_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = await stored_counts(sessionmaker)
    assert_problem(await intake_api.post(URL, json=personal_request_body()), 401)
    assert await stored_counts(sessionmaker) == before


async def test_reading_needs_the_status_scope(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    writer_only = await create_client(
        sessionmaker, organisation_code=department, scopes=("permissions:write",)
    )
    created = await intake_api.post(URL, json=personal_request_body(), headers=bearer(token))

    assert_problem(
        await intake_api.get(created.json()["status_url"], headers=bearer(writer_only)), 403
    )


async def test_a_portal_cannot_read_another_departments_request(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await new_portal(sessionmaker)
    _, stranger = await new_portal(sessionmaker)
    created = await intake_api.post(URL, json=official_account_body(), headers=bearer(owner))
    request_url = created.json()["status_url"]

    assert_problem(await intake_api.get(request_url, headers=bearer(stranger)), 404)
    # The same answer for a request that does not exist: no way to probe for ids.
    assert_problem(await intake_api.get(f"{URL}/{uuid.uuid4()}", headers=bearer(stranger)), 404)
    assert (await intake_api.get(request_url, headers=bearer(owner))).status_code == 200


async def test_a_retry_with_the_same_key_replays_the_first_answer_and_stores_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    body = official_account_body()
    headers = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}

    first = await intake_api.post(URL, json=body, headers=headers)
    after_first = await stored_counts(sessionmaker)
    retry = await intake_api.post(URL, json=body, headers=headers)
    # The same key for a different request is refused, and stores nothing either.
    reused = await intake_api.post(URL, json=personal_request_body(), headers=headers)

    assert first.status_code == 202, first.text
    assert retry.status_code == 202
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert assert_problem(reused, 422)["code"] == "idempotency-key-reused"
    assert await stored_counts(sessionmaker) == after_first
    async with sessionmaker() as session:
        stored = (
            await session.execute(
                text("SELECT count(*) FROM intake.permission_request WHERE department = :d"),
                {"d": department},
            )
        ).scalar_one()
    assert stored == 1


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != field}


MODERATOR = {"employee_ref": "EMP-MOD-9", "name": "Asad Ali", "designation": "IT Officer"}
BAD_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("missing kind", without(personal_request_body(), "kind"), "kind"),
    ("kind not offered", personal_request_body(kind="group"), "kind"),
    ("missing platform", without(personal_request_body(), "platform"), "platform"),
    ("platform not offered", personal_request_body(platform="myspace"), "platform"),
    ("missing handle", without(personal_request_body(), "account_handle"), "account_handle"),
    ("blank handle", personal_request_body(account_handle="  "), "account_handle"),
    ("missing purpose", without(personal_request_body(), "purpose"), "purpose"),
    ("link not http", personal_request_body(account_url="file:///etc/passwd"), "account_url"),
    ("renewal_of not an id", personal_request_body(renewal_of="last year"), "renewal_of"),
    ("personal without applicant", without(personal_request_body(), "applicant"), "applicant"),
    ("personal with moderators", personal_request_body(moderators=[MODERATOR]), "moderators"),
    (
        "personal with account purpose",
        personal_request_body(account_purpose="complaints"),
        "account_purpose",
    ),
    (
        "applicant without office",
        personal_request_body(applicant={"employee_ref": "E1", "name": "A", "designation": "B"}),
        "applicant.office",
    ),
    ("official without moderators", official_account_body(moderators=[]), "moderators"),
    (
        "official without account purpose",
        without(official_account_body(), "account_purpose"),
        "account_purpose",
    ),
    (
        "official account purpose not offered",
        official_account_body(account_purpose="campaigning"),
        "account_purpose",
    ),
    (
        "official with an applicant",
        official_account_body(applicant=personal_request_body()["applicant"]),
        "applicant",
    ),
    (
        "moderator without name",
        official_account_body(moderators=[{"employee_ref": "E1", "designation": "x"}]),
        "moderators.0.name",
    ),
    ("server-owned id", personal_request_body(id=str(uuid.uuid4())), "id"),
    ("server-owned status", personal_request_body(status="granted"), "status"),
    ("server-owned department", official_account_body(department="OTHER"), "department"),
    ("unknown field", personal_request_body(expires_on="2030-01-01"), "expires_on"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
async def test_bad_request_gets_422_naming_the_field_and_writes_nothing(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    body: dict[str, Any],
    field: str,
) -> None:
    _, token = await new_portal(sessionmaker)
    before = await stored_counts(sessionmaker)

    response = await intake_api.post(URL, json=body, headers=bearer(token))

    problem = assert_problem(response, 422)
    assert field in {error["field"] for error in problem["errors"]}, problem
    assert await stored_counts(sessionmaker) == before
