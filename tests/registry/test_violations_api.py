"""GET /v1/violations and /v1/violations/{id}: who may read, what each credential sees, the
filters and the keyset pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.readers.models import ReaderCredential
from services.registry.readers.service import revoke_reader_credential
from shared.db import unit_of_work
from tests.factories import bearer, unique_code
from tests.registry.factories import append_entry, issue_reader


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["code"]
    return problem


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rk_0000000000000000.wrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token"},
    ],
    ids=["no credential", "unknown credential", "wrong scheme", "malformed"],
)
@pytest.mark.parametrize("path", ["/v1/violations", "/v1/audit/verify"])
async def test_missing_or_wrong_credential_gets_401(
    registry_api: httpx.AsyncClient, headers: dict[str, str], path: str
) -> None:
    response = await registry_api.get(path, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_wrong_secret_for_a_real_key_gets_401(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await issue_reader(sessionmaker)
    key_id = token.split(".", 1)[0]
    response = await registry_api.get("/v1/violations", headers=bearer(f"{key_id}.wrong"))
    assert_problem(response, 401)


async def test_a_dashboard_may_not_read_violations_or_verify(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    dashboard = bearer(await issue_reader(sessionmaker, role="dashboard"))
    record = await append_entry(sessionmaker, department=unique_code("DEPT"))
    for path in ("/v1/violations", f"/v1/violations/{record.id}", "/v1/audit/verify"):
        assert assert_problem(await registry_api.get(path, headers=dashboard), 403)["code"] == (
            "role-not-allowed"
        )


async def test_a_competent_authority_reads_violations_but_does_not_verify(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    record = await append_entry(sessionmaker, department=department)
    authority = bearer(
        await issue_reader(sessionmaker, role="competent_authority", organisation_code=department)
    )
    listed = await registry_api.get("/v1/violations", headers=authority)
    assert [item["id"] for item in listed.json()["items"]] == [str(record.id)]
    assert_problem(await registry_api.get("/v1/audit/verify", headers=authority), 403)


async def test_a_department_bound_auditor_sees_only_its_department(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department_a, department_b = unique_code("DEPT"), unique_code("DEPT")
    record_a = await append_entry(sessionmaker, department=department_a)
    record_b = await append_entry(sessionmaker, department=department_b)
    auditor_a = bearer(await issue_reader(sessionmaker, organisation_code=department_a))

    listed = await registry_api.get("/v1/violations", headers=auditor_a)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {item["department"] for item in items} == {department_a}
    assert [item["id"] for item in items] == [str(record_a.id)]

    own = await registry_api.get(f"/v1/violations/{record_a.id}", headers=auditor_a)
    assert own.status_code == 200 and own.json()["chain_hash"] == record_a.chain_hash
    assert_problem(await registry_api.get(f"/v1/violations/{record_b.id}", headers=auditor_a), 404)
    asked_for_b = await registry_api.get(
        "/v1/violations", params={"department": department_b}, headers=auditor_a
    )
    assert assert_problem(asked_for_b, 403)["code"] == "outside-organisation"

    # An auditor of every department sees both.
    everyone = bearer(await issue_reader(sessionmaker))
    assert (
        await registry_api.get(f"/v1/violations/{record_b.id}", headers=everyone)
    ).status_code == 200


async def test_a_cleared_finding_is_not_a_violation(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    cleared = await append_entry(sessionmaker, department=department, record_kind="cleared_finding")
    auditor = bearer(await issue_reader(sessionmaker))
    listed = await registry_api.get(
        "/v1/violations", params={"department": department}, headers=auditor
    )
    assert listed.json()["items"] == []
    assert_problem(await registry_api.get(f"/v1/violations/{cleared.id}", headers=auditor), 404)


async def test_filters_by_rule_and_platform(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    r18 = await append_entry(
        sessionmaker, department=department, rules_cited=["CR1964-18"], platform="whatsapp"
    )
    both = await append_entry(
        sessionmaker,
        department=department,
        rules_cited=["CR1964-22", "NOTIF-USE-WITHOUT-PERMISSION"],
        platform="facebook",
    )
    r22 = await append_entry(
        sessionmaker, department=department, rules_cited=["CR1964-22"], platform="x"
    )
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))

    async def ids(**params: str) -> list[str]:
        response = await registry_api.get("/v1/violations", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(rule="CR1964-22") == [str(both.id), str(r22.id)]
    assert await ids(rule="NOTIF-USE-WITHOUT-PERMISSION") == [str(both.id)]
    assert await ids(platform="whatsapp") == [str(r18.id)]
    assert await ids(rule="CR1964-22", platform="x", department=department) == [str(r22.id)]
    assert await ids(rule="CR1987-22") == []


async def test_keyset_pages_follow_the_ledger_sequence(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    records = [await append_entry(sessionmaker, department=department) for _ in range(5)]
    auditor = bearer(await issue_reader(sessionmaker))
    seen: list[str] = []
    after: int | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"department": department, "limit": 2}
        if after is not None:
            params["after"] = after
        page = (await registry_api.get("/v1/violations", params=params, headers=auditor)).json()
        seen += [item["id"] for item in page["items"]]
        sequences = [item["sequence"] for item in page["items"]]
        assert sequences == sorted(sequences)
        pages += 1
        after = page["next_cursor"]
        if after is None:
            break
        assert after == sequences[-1]
        # A record appended meanwhile goes to the end: pages already read stay as they were.
        if pages == 1:
            records.append(await append_entry(sessionmaker, department=department))
    assert seen == [str(record.id) for record in records]
    assert pages == 3


@pytest.mark.parametrize("params", [{"limit": 201}, {"limit": 0}, {"after": -1}])
async def test_page_bounds_are_checked(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    params: dict[str, int],
) -> None:
    auditor = bearer(await issue_reader(sessionmaker))
    assert_problem(await registry_api.get("/v1/violations", params=params, headers=auditor), 422)


async def test_a_revoked_credential_gets_401(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await issue_reader(sessionmaker)
    async with unit_of_work(sessionmaker) as session:
        credential = await session.scalar(
            select(ReaderCredential).where(ReaderCredential.key_id == token.split(".")[0])
        )
        assert credential is not None
        await revoke_reader_credential(session, credential=credential)
    assert_problem(await registry_api.get("/v1/violations", headers=bearer(token)), 401)
