"""GET /v1/employees/{employee_ref}/record and /record-reads: an employee's violations (current
and superseded), sanctions with their events and personal permissions (active, expired,
refused), read only with a reason and every read logged; the log produced for that employee
only; who may read what."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work, utcnow
from tests.factories import bearer, unique_code
from tests.registry.factories import (
    append_entry,
    append_settled_violation,
    issue_reader,
    personal_permission_decision,
)
from tests.registry.permission_steps import decide
from tests.registry.sanction_steps import authority, impose
from tests.registry.test_violations_api import assert_problem


async def seed_employee(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, api: httpx.AsyncClient
) -> dict[str, Any]:
    """In a department of their own: two violations of one employee, the first corrected and
    the correction sanctioned; an active, an expired and a refused permission."""
    department = unique_code("EMPL")
    employee_ref = unique_code("EMP")
    first = await append_settled_violation(
        sessionmaker, department=department, employee_ref=employee_ref
    )
    correction = await append_settled_violation(
        sessionmaker,
        department=department,
        employee_ref=employee_ref,
        record_kind="correction",
        supersedes_id=first.id,
        case_id=first.case_id,
        submission_id=first.submission_id,
        rules_cited=["CR1964-22"],
    )
    second = await append_entry(sessionmaker, department=department, employee_ref=employee_ref)
    sanction = await impose(api, correction.id, await authority(sessionmaker, department))
    for overrides in (
        {},
        {"valid_from": date(2025, 1, 1), "expires_on": date(2025, 12, 31)},
        {"decision": "refused"},
    ):
        await decide(
            sessionmaker,
            queue,
            personal_permission_decision(
                department=department, employee_ref=employee_ref, **overrides
            ),
        )
    return {
        "department": department,
        "employee_ref": employee_ref,
        "violations": [first, correction, second],
        "sanction": sanction,
    }


async def test_an_auditor_reads_the_whole_record_with_a_reason_and_the_read_is_logged(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    seeded = await seed_employee(sessionmaker, queue, registry_api)
    employee_ref = seeded["employee_ref"]
    first, correction, second = seeded["violations"]
    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    before = utcnow()
    response = await registry_api.get(
        f"/v1/employees/{employee_ref}/record",
        params={"reason": "Annual audit of sanctions, file A-17"},
        headers=auditor,
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert [(v["id"], v["status"]) for v in record["violations"]] == [
        (str(first.id), "superseded"),
        (str(correction.id), "current"),
        (str(second.id), "current"),
    ]
    [sanction] = record["sanctions"]
    assert sanction == seeded["sanction"]
    assert sorted(p["status"] for p in record["permissions"]) == ["active", "expired", "refused"]
    assert {p["employee_ref"] for p in record["permissions"]} == {employee_ref}
    read = record["read"]
    assert (read["employee_ref"], read["reader_role"], read["reason"]) == (
        employee_ref,
        "auditor",
        "Annual audit of sanctions, file A-17",
    )
    assert datetime.fromisoformat(read["read_at"]) >= before

    log = await registry_api.get(f"/v1/employees/{employee_ref}/record-reads", headers=auditor)
    assert log.status_code == 200, log.text
    assert log.json()["items"] == [read]


async def test_as_of_before_a_record_leaves_it_out(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("EMPL")
    employee_ref = unique_code("EMP")
    before = utcnow()
    violation = await append_entry(sessionmaker, department=department, employee_ref=employee_ref)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    url = f"/v1/employees/{employee_ref}/record"
    earlier = await registry_api.get(
        url, params={"reason": "check", "as_of": before.isoformat()}, headers=auditor
    )
    assert assert_problem(earlier, 404)["code"] == "employee-not-found"
    now = await registry_api.get(url, params={"reason": "check"}, headers=auditor)
    assert [v["id"] for v in now.json()["violations"]] == [str(violation.id)]


async def test_a_read_without_a_reason_is_refused_and_not_logged(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("EMPL")
    employee_ref = unique_code("EMP")
    await append_entry(sessionmaker, department=department, employee_ref=employee_ref)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    url = f"/v1/employees/{employee_ref}/record"
    for params in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1001}):
        problem = assert_problem(await registry_api.get(url, params=params, headers=auditor), 422)
        assert [error["field"] for error in problem["errors"]] == ["reason"], params
    log = await registry_api.get(f"/v1/employees/{employee_ref}/record-reads", headers=auditor)
    assert log.json()["items"] == []


async def test_each_read_is_logged_for_that_employee_only_with_who_and_why(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("EMPL")
    employee_ref, other_ref = unique_code("EMP"), unique_code("EMP")
    for ref in (employee_ref, other_ref):
        await append_entry(sessionmaker, department=department, employee_ref=ref)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    competent = await authority(sessionmaker, department)
    reads = [
        (auditor, "Audit A-1", "auditor"),
        (competent, "Considering a penalty", "competent_authority"),
        (auditor, "Audit A-2", "auditor"),
    ]
    for headers, reason, _ in reads:
        response = await registry_api.get(
            f"/v1/employees/{employee_ref}/record", params={"reason": reason}, headers=headers
        )
        assert response.status_code == 200, response.text
    await registry_api.get(
        f"/v1/employees/{other_ref}/record", params={"reason": "Someone else"}, headers=auditor
    )

    log = await registry_api.get(
        f"/v1/employees/{employee_ref}/record-reads", params={"limit": 2}, headers=auditor
    )
    assert log.status_code == 200, log.text
    page = log.json()
    rest = await registry_api.get(
        f"/v1/employees/{employee_ref}/record-reads",
        params={"after": page["next_cursor"]},
        headers=competent,
    )
    assert rest.status_code == 200, rest.text
    items = page["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert [(i["reason"], i["reader_role"]) for i in items] == [
        (reason, role) for _, reason, role in reads
    ]
    assert {i["employee_ref"] for i in items} == {employee_ref}
    assert len({i["reader_credential_id"] for i in items}) == 2
    assert items == sorted(items, key=lambda i: i["read_at"])


async def test_who_may_read_the_record_and_its_log(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, other = unique_code("EMPL"), unique_code("EMPL")
    employee_ref = unique_code("EMP")
    await append_entry(sessionmaker, department=department, employee_ref=employee_ref)
    record_url = f"/v1/employees/{employee_ref}/record"
    log_url = f"/v1/employees/{employee_ref}/record-reads"
    params = {"reason": "curious"}

    dashboard = bearer(await issue_reader(sessionmaker, role="dashboard"))
    problem = assert_problem(
        await registry_api.get(record_url, params=params, headers=dashboard), 403
    )
    assert problem["code"] == "role-not-allowed"
    assert_problem(await registry_api.get(log_url, headers=dashboard), 403)
    # An unbound competent authority is no department's: it may read the record, not the log.
    unbound = await authority(sessionmaker, None)
    assert (await registry_api.get(record_url, params=params, headers=unbound)).status_code == 200
    assert_problem(await registry_api.get(log_url, headers=unbound), 403)
    # Another department's credentials: as if the employee did not exist.
    for role in ("auditor", "competent_authority"):
        elsewhere = bearer(await issue_reader(sessionmaker, role=role, organisation_code=other))
        refused = await registry_api.get(record_url, params=params, headers=elsewhere)
        assert assert_problem(refused, 404)["code"] == "employee-not-found"
        assert_problem(await registry_api.get(log_url, headers=elsewhere), 404)
    assert_problem(await registry_api.get(record_url, params=params), 401)

    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    log = (await registry_api.get(log_url, headers=auditor)).json()["items"]
    # Only the reads that produced the record are logged; refusals read nothing.
    assert [item["reader_role"] for item in log] == ["competent_authority"]


async def test_the_read_log_is_append_only(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    employee_ref = unique_code("EMP")
    await append_entry(sessionmaker, department=unique_code("EMPL"), employee_ref=employee_ref)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    response = await registry_api.get(
        f"/v1/employees/{employee_ref}/record", params={"reason": "Audit"}, headers=auditor
    )
    assert response.status_code == 200
    for statement in (
        "UPDATE registry.employee_record_read SET reason = 'nothing' WHERE employee_ref = :ref",
        "DELETE FROM registry.employee_record_read WHERE employee_ref = :ref",
    ):
        try:
            async with unit_of_work(sessionmaker) as session:
                await session.execute(text(statement), {"ref": employee_ref})
        except DBAPIError as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError(f"not refused: {statement}")
    log = await registry_api.get(f"/v1/employees/{employee_ref}/record-reads", headers=auditor)
    assert [item["reason"] for item in log.json()["items"]] == ["Audit"]
