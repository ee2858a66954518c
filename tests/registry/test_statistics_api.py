"""GET /v1/statistics and its CSV export, and GET /v1/statistics/inconsistent-sanctions: counts
of current violations by month, department, rule, platform and penalty as the registry stood at
any moment; small cells read "<5"; dashboards never see personal data; bad parameters are
refused naming the parameter.

Every test counts its own department (the test database is shared by the whole run)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.models import LedgerRecord
from shared.db import utcnow
from tests.factories import bearer, unique_code
from tests.registry.factories import append_entry, append_settled_violation, issue_reader
from tests.registry.sanction_steps import authority, impose
from tests.registry.test_violations_api import assert_problem


async def seed_department(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[str, list[LedgerRecord]]:
    """Five facebook violations of rule 22 effective in October 2026, four on X of rule 18
    effective in September: one group at the threshold, one just under it."""
    department = unique_code("STAT")
    records = [
        await append_entry(
            sessionmaker,
            department=department,
            platform="facebook",
            rules_cited=["CR1964-22"],
            effective_on=date(2026, 10, 10),
        )
        for _ in range(5)
    ]
    records += [
        await append_entry(
            sessionmaker,
            department=department,
            platform="x",
            rules_cited=["CR1964-18"],
            effective_on=date(2026, 9, 10),
        )
        for _ in range(4)
    ]
    return department, records


async def dashboard(
    sessionmaker: async_sessionmaker[AsyncSession], department: str | None = None
) -> dict[str, str]:
    return bearer(await issue_reader(sessionmaker, role="dashboard", organisation_code=department))


async def statistics(
    api: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await api.get("/v1/statistics", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def groups(body: dict[str, Any]) -> dict[str, Any]:
    return {group["key"]: group["count"] for group in body["groups"]}


def assert_no_personal_data(text: str, records: list[LedgerRecord]) -> None:
    assert "employee_ref" not in text and "employee_name" not in text
    for record in records:
        assert record.employee_ref is not None and record.employee_name is not None
        assert record.employee_ref not in text
        assert record.employee_name not in text


async def test_counts_by_each_grouping_suppress_cells_under_five(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, _ = await seed_department(sessionmaker)
    headers = await dashboard(sessionmaker)

    by_month = await statistics(registry_api, headers, by="month", department=department)
    assert groups(by_month) == {"2026-09": "<5", "2026-10": 5}
    # Nine in all, but 9 - 5 would give the suppressed cell back: the total is withheld.
    assert by_month["total"] is None
    assert by_month["min_cell"] == 5
    assert groups(
        await statistics(registry_api, headers, by="platform", department=department)
    ) == {
        "facebook": 5,
        "x": "<5",
    }
    assert groups(await statistics(registry_api, headers, by="rule", department=department)) == {
        "CR1964-22": 5,
        "CR1964-18": "<5",
    }
    by_department = await statistics(registry_api, headers, by="department", department=department)
    assert groups(by_department) == {department: 9}
    assert by_department["total"] == 9
    # A suppressed cell is a string, never a number.
    assert all(
        isinstance(group["count"], int) and group["count"] >= 5 or group["count"] == "<5"
        for group in by_month["groups"]
    )


async def test_a_date_range_narrows_the_counts_on_effective_dates(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, _ = await seed_department(sessionmaker)
    headers = await dashboard(sessionmaker)
    body = await statistics(
        registry_api, headers, by="month", department=department, **{"from": "2026-10-01"}
    )
    assert groups(body) == {"2026-10": 5}
    assert body["total"] == 5
    body = await statistics(
        registry_api, headers, by="month", department=department, to="2026-09-30"
    )
    assert groups(body) == {"2026-09": "<5"}
    assert body["total"] == "<5"


async def test_days_from_report_to_record_are_given_over_five_records_only(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("STAT")
    headers = await dashboard(sessionmaker)
    now = datetime.now(UTC)
    for days in (1, 2, 3, 4):
        await append_entry(sessionmaker, department=department, reported_at=now - timedelta(days))
    four = (await statistics(registry_api, headers, department=department))["report_to_record"]
    assert four == {"records": "<5", "median_days": "<5", "p90_days": "<5"}

    await append_entry(sessionmaker, department=department, reported_at=now - timedelta(5))
    five = (await statistics(registry_api, headers, department=department))["report_to_record"]
    assert five["records"] == 5
    assert abs(five["median_days"] - 3.0) <= 0.1
    assert abs(five["p90_days"] - 4.6) <= 0.1


async def test_as_of_before_a_record_leaves_it_out_and_a_correction_replaces_its_original(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("STAT")
    headers = await dashboard(sessionmaker)
    before = utcnow()
    originals = [
        await append_entry(sessionmaker, department=department, platform="facebook")
        for _ in range(5)
    ]
    after_originals = utcnow()
    # One violation corrected: its platform was X, not facebook.
    await append_entry(
        sessionmaker,
        record_kind="correction",
        supersedes_id=originals[0].id,
        case_id=originals[0].case_id,
        submission_id=originals[0].submission_id,
        department=department,
        platform="x",
    )

    empty = await statistics(
        registry_api, headers, by="platform", department=department, as_of=before.isoformat()
    )
    assert empty["groups"] == [] and empty["total"] == "<5"
    then = await statistics(
        registry_api,
        headers,
        by="platform",
        department=department,
        as_of=after_originals.isoformat(),
    )
    assert groups(then) == {"facebook": 5} and then["total"] == 5
    now = await statistics(registry_api, headers, by="platform", department=department)
    assert groups(now) == {"facebook": "<5", "x": "<5"}
    # Five in all, but every cell is suppressed, so the total is withheld.
    assert now["total"] is None


async def test_penalties_count_impositions_and_inconsistent_sanctions_are_flagged(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("STAT")
    violations = [
        await append_settled_violation(
            sessionmaker, department=department, rules_cited=["CR1964-22"]
        )
        for _ in range(6)
    ]
    headers = await authority(sessionmaker, department)
    for violation in violations[:5]:
        await impose(registry_api, violation.id, headers)
    outlier = await impose(registry_api, violations[5].id, headers, penalty_code="ED2020-REDUCTION")

    by_penalty = await statistics(
        registry_api, await dashboard(sessionmaker), by="penalty", department=department
    )
    assert groups(by_penalty) == {"ED2020-CENSURE": 5, "ED2020-REDUCTION": "<5"}
    assert by_penalty["total"] is None

    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))
    response = await registry_api.get(
        "/v1/statistics/inconsistent-sanctions",
        params={"department": department},
        headers=auditor,
    )
    assert response.status_code == 200, response.text
    [flagged] = response.json()["items"]
    assert flagged["sanction_id"] == outlier["sanction_id"]
    assert flagged["violation_id"] == str(violations[5].id)
    assert (flagged["rule"], flagged["usual_class"], flagged["penalty_class"]) == (
        "CR1964-22",
        "minor",
        "major",
    )
    assert flagged["rule_sanctions"] == 6
    # It names violations: no dashboard may read it.
    refused = await registry_api.get(
        "/v1/statistics/inconsistent-sanctions", headers=await dashboard(sessionmaker)
    )
    assert assert_problem(refused, 403)["code"] == "role-not-allowed"


async def test_a_dashboard_never_sees_personal_data(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, records = await seed_department(sessionmaker)
    headers = await dashboard(sessionmaker)
    for by in ("month", "department", "rule", "platform", "penalty"):
        for params in ({"by": by}, {"by": by, "department": department}):
            response = await registry_api.get("/v1/statistics", params=params, headers=headers)
            assert response.status_code == 200, response.text
            assert_no_personal_data(response.text, records)
            exported = await registry_api.get(
                "/v1/statistics/export.csv", params=params, headers=headers
            )
            assert exported.status_code == 200, exported.text
            assert_no_personal_data(exported.text, records)


async def test_the_csv_export_streams_the_same_suppressed_counts_with_a_header(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, _ = await seed_department(sessionmaker)
    headers = await dashboard(sessionmaker)
    for by in ("month", "rule", "platform"):
        params = {"by": by, "department": department}
        async with registry_api.stream(
            "GET", "/v1/statistics/export.csv", params=params, headers=headers
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/csv")
            assert "content-length" not in response.headers  # streamed, not buffered
            text = "".join([chunk async for chunk in response.aiter_text()])
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == [by, "count"]
        body = await statistics(registry_api, headers, **params)
        assert rows[1:] == [[group["key"], str(group["count"])] for group in body["groups"]]
        assert "<5" in {row[1] for row in rows[1:]}


async def test_bad_parameters_are_refused_naming_the_parameter(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await dashboard(sessionmaker)
    for path in ("/v1/statistics", "/v1/statistics/export.csv"):
        for params, field in (
            ({"by": "week"}, "by"),  # not a grouping
            ({"from": "last tuesday"}, "from"),  # not a date
            ({"to": "2026-13-01"}, "to"),  # no such month
            ({"from": "2026-10-02", "to": "2026-10-01"}, "from"),  # a reversed range
            ({"as_of": "2026-10-01T00:00:00"}, "as_of"),  # no time zone
            ({"department": "D" * 65}, "department"),  # too long
        ):
            response = await registry_api.get(path, params=params, headers=headers)
            problem = assert_problem(response, 422)
            assert field in {error["field"] for error in problem["errors"]}, (params, problem)


async def test_a_department_bound_dashboard_counts_only_its_department(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, _ = await seed_department(sessionmaker)
    other, _ = await seed_department(sessionmaker)
    headers = await dashboard(sessionmaker, department)
    body = await statistics(registry_api, headers, by="department")
    assert groups(body) == {department: 9}
    refused = await registry_api.get(
        "/v1/statistics", params={"department": other}, headers=headers
    )
    assert assert_problem(refused, 403)["code"] == "outside-organisation"
    unauthenticated = await registry_api.get("/v1/statistics")
    assert_problem(unauthenticated, 401)
