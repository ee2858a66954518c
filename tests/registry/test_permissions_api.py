"""GET /v1/official-accounts, /v1/permissions and /v1/permissions/check: statuses by date and
by as_of, the coverage check, the filters and pages, bad parameters, and who may read what."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import utcnow
from tests.factories import bearer, unique_code
from tests.registry.factories import (
    issue_reader,
    official_account_decision,
    personal_permission_decision,
)
from tests.registry.permission_steps import decide
from tests.registry.test_violations_api import assert_problem


def statuses(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["status"] for item in response.json()["items"]]


async def test_an_account_is_upcoming_active_then_expired_by_date(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    await decide(sessionmaker, queue, official_account_decision(department=department))
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))

    for on, expected in (
        ("2025-12-31", "upcoming"),
        ("2026-01-01", "active"),
        ("2026-12-31", "active"),
        ("2027-01-01", "expired"),
    ):
        response = await registry_api.get(
            "/v1/official-accounts", params={"on": on}, headers=auditor
        )
        assert statuses(response) == [expected], on
        assert response.json()["on"] == on
    only_active = await registry_api.get(
        "/v1/official-accounts", params={"on": "2027-01-01", "status": "active"}, headers=auditor
    )
    assert statuses(only_active) == []


async def test_status_defaults_to_the_date_of_as_of(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    today = utcnow().date()
    await decide(
        sessionmaker,
        queue,
        personal_permission_decision(
            department=department,
            valid_from=today - timedelta(days=30),
            expires_on=today + timedelta(days=5),
        ),
    )
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    assert statuses(await registry_api.get("/v1/permissions", headers=auditor)) == ["active"]
    # Asked as of a moment after the expiry, the same grant had expired then.
    later = (utcnow() + timedelta(days=6)).isoformat()
    assert statuses(
        await registry_api.get("/v1/permissions", params={"as_of": later}, headers=auditor)
    ) == ["expired"]


async def test_as_of_before_recording_shows_nothing_and_before_a_renewal_the_old_grant(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    before_anything = utcnow().isoformat()
    first = official_account_decision(department=department)
    await decide(sessionmaker, queue, first)
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    first_id = (
        await registry_api.get(
            "/v1/official-accounts", params={"on": "2026-06-01"}, headers=auditor
        )
    ).json()["items"][0]["id"]
    before_renewal = utcnow().isoformat()
    await decide(
        sessionmaker,
        queue,
        official_account_decision(
            department=department,
            account_handle=first.account_handle,
            valid_from=date(2027, 1, 1),
            expires_on=None,
            renewal_of=first_id,
        ),
    )

    async def listed(as_of: str) -> list[tuple[str, str]]:
        response = await registry_api.get(
            "/v1/official-accounts", params={"as_of": as_of, "on": "2027-06-01"}, headers=auditor
        )
        assert response.status_code == 200, response.text
        return [(item["id"], item["status"]) for item in response.json()["items"]]

    assert await listed(before_anything) == []
    assert await listed(before_renewal) == [(first_id, "expired")]
    [(renewed_id, status)] = await listed(utcnow().isoformat())
    assert renewed_id != first_id and status == "active"

    check = {"platform": "facebook", "account_handle": first.account_handle, "on": "2027-06-01"}
    then = await registry_api.get(
        "/v1/permissions/check", params={**check, "as_of": before_renewal}, headers=auditor
    )
    assert then.json()["permitted"] is False
    now = await registry_api.get("/v1/permissions/check", params=check, headers=auditor)
    assert now.json()["permitted"] is True and now.json()["record"]["id"] == renewed_id
    assert now.json()["record"]["expires_on"] is None


async def test_the_check_answers_for_the_covered_dates_and_account_only(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    grant = personal_permission_decision(
        department=department,
        employee_ref="EMP-C1",
        account_handle="@Dr_Check",
        decision="granted_with_conditions",
        conditions=["No official information"],
    )
    await decide(sessionmaker, queue, grant)
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))

    async def check(**overrides: str) -> dict[str, Any]:
        params = {"employee_ref": "EMP-C1", "platform": "x", "account_handle": "@Dr_Check"}
        params.update(overrides)
        response = await registry_api.get("/v1/permissions/check", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    covered = await check(on="2026-01-01")
    assert covered["permitted"] is True
    assert covered["record"]["decision"] == "granted_with_conditions"
    assert covered["record"]["conditions"] == ["No official information"]
    assert covered["record"]["employee_ref"] == "EMP-C1"
    assert (await check(on="2026-12-31"))["permitted"] is True
    # Handles match without case or a leading '@'; so do platforms without case.
    assert (await check(on="2026-06-01", account_handle="dr_check", platform="X"))["permitted"]
    for not_covered in (
        {"on": "2025-12-31"},
        {"on": "2027-01-01"},
        {"on": "2026-06-01", "account_handle": "@someone_else"},
        {"on": "2026-06-01", "platform": "facebook"},
        {"on": "2026-06-01", "employee_ref": "EMP-OTHER"},
    ):
        answer = await check(**not_covered)
        assert answer["permitted"] is False and answer["record"] is None, not_covered
    # Without an employee, any grant for the account answers.
    anyone = await registry_api.get(
        "/v1/permissions/check",
        params={"platform": "x", "account_handle": "@Dr_Check", "on": "2026-06-01"},
        headers=auditor,
    )
    assert anyone.json()["permitted"] is True


async def test_permissions_filters_and_expiring_soon(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    soon = personal_permission_decision(department=department, expires_on=date(2026, 6, 10))
    later = personal_permission_decision(department=department, platform="instagram")
    account = official_account_decision(department=department, expires_on=date(2026, 6, 5))
    refused = personal_permission_decision(department=department, decision="refused")
    for payload in (soon, later, account, refused):
        await decide(sessionmaker, queue, payload)
    auditor = bearer(await issue_reader(sessionmaker))

    async def handles(**params: Any) -> list[str]:
        response = await registry_api.get(
            "/v1/permissions",
            params={"department": department, "on": "2026-06-01", **params},
            headers=auditor,
        )
        assert response.status_code == 200, response.text
        return [item["account_handle"] for item in response.json()["items"]]

    assert await handles() == [h.account_handle for h in (soon, later, account, refused)]
    assert await handles(expiring_within_days=10) == [soon.account_handle, account.account_handle]
    assert await handles(expiring_within_days=4) == [account.account_handle]
    assert await handles(platform="instagram") == [later.account_handle]
    assert await handles(kind="official_account") == [account.account_handle]
    assert await handles(status="refused") == [refused.account_handle]
    employee = refused.applicant.employee_ref if refused.applicant else ""
    assert await handles(employee_ref=employee) == [refused.account_handle]


async def test_pages_are_cut_on_the_ledger_sequence(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    decisions = [official_account_decision(department=department) for _ in range(3)]
    for payload in decisions:
        await decide(sessionmaker, queue, payload)
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2, "on": "2026-06-01"}
    for _ in range(3):
        page = (
            await registry_api.get("/v1/official-accounts", params=params, headers=auditor)
        ).json()
        seen += [item["account_handle"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params.update(after=page["next_cursor"], as_of=page["as_of"])
    assert seen == [payload.account_handle for payload in decisions]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/permissions", {"on": "2026-13-01"}, "on"),
        ("/v1/permissions", {"expiring_within_days": "-1"}, "expiring_within_days"),
        ("/v1/permissions", {"status": "lapsed"}, "status"),
        ("/v1/permissions", {"kind": "personal"}, "kind"),
        ("/v1/permissions", {"as_of": "2026-06-01T00:00:00"}, "as_of"),
        ("/v1/official-accounts", {"status": "refused"}, "status"),
        ("/v1/official-accounts", {"limit": "0"}, "limit"),
        ("/v1/permissions/check", {"platform": "x", "on": "2026-06-01"}, "account_handle"),
        ("/v1/permissions/check", {"platform": "x", "account_handle": "a"}, "on"),
        (
            "/v1/permissions/check",
            {"platform": "x", "account_handle": "a", "on": "yesterday"},
            "on",
        ),
    ],
)
async def test_bad_parameters_get_422_naming_the_parameter(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    # Bad input tried: an impossible date, a negative window, unknown statuses and kinds, a
    # moment without a time zone, a zero page size, missing required parameters.
    auditor = bearer(await issue_reader(sessionmaker))
    problem = assert_problem(await registry_api.get(path, params=params, headers=auditor), 422)
    assert field in [error["field"] for error in problem["errors"]]
    assert field in problem["detail"]


async def test_dashboards_see_accounts_without_moderators_and_no_permissions(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    await decide(sessionmaker, queue, official_account_decision(department=department))
    dashboard = bearer(await issue_reader(sessionmaker, role="dashboard"))
    authority = bearer(
        await issue_reader(sessionmaker, role="competent_authority", organisation_code=department)
    )

    response = await registry_api.get(
        "/v1/official-accounts", params={"department": department}, headers=dashboard
    )
    assert response.status_code == 200, response.text
    [account] = response.json()["items"]
    assert account["moderators"] is None and account["moderator_count"] == 2
    assert "Ayesha Khan" not in response.text

    for path, params in (
        ("/v1/permissions", {}),
        ("/v1/permissions/check", {"platform": "x", "account_handle": "a", "on": "2026-06-01"}),
    ):
        problem = assert_problem(
            await registry_api.get(path, params=params, headers=dashboard), 403
        )
        assert problem["code"] == "role-not-allowed"
        assert (await registry_api.get(path, params=params, headers=authority)).status_code == 200

    with_names = await registry_api.get("/v1/official-accounts", headers=authority)
    assert [m["name"] for m in with_names.json()["items"][0]["moderators"]] == [
        "Ayesha Khan",
        "Bilal Ahmed",
    ]


async def test_a_department_bound_credential_reads_only_its_department(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    ours, theirs = unique_code("DEPT"), unique_code("DEPT")
    mine = official_account_decision(department=ours)
    other = personal_permission_decision(department=theirs, account_handle="@theirs_only")
    await decide(sessionmaker, queue, mine)
    await decide(sessionmaker, queue, other)
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=ours))

    accounts = (await registry_api.get("/v1/official-accounts", headers=auditor)).json()["items"]
    assert [a["department"] for a in accounts] == [ours]
    permissions = (await registry_api.get("/v1/permissions", headers=auditor)).json()["items"]
    assert [p["department"] for p in permissions] == [ours]
    for path in ("/v1/official-accounts", "/v1/permissions"):
        problem = assert_problem(
            await registry_api.get(path, params={"department": theirs}, headers=auditor), 403
        )
        assert problem["code"] == "outside-organisation"
    check = await registry_api.get(
        "/v1/permissions/check",
        params={"platform": "x", "account_handle": "@theirs_only", "on": "2026-06-01"},
        headers=auditor,
    )
    assert check.json()["permitted"] is False


@pytest.mark.parametrize("path", ["/v1/official-accounts", "/v1/permissions"])
async def test_no_credential_gets_401(registry_api: httpx.AsyncClient, path: str) -> None:
    assert_problem(await registry_api.get(path), 401)
