"""GET /v1/violations/export.csv: every violation version the pages of GET /v1/violations list
with the same filters, as one streamed CSV; who may export what; cells a spreadsheet would run
as formulas are made inert; bad parameters are refused naming the parameter."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.corrections import append_correction
from shared.db import unit_of_work
from tests.factories import bearer, unique_code
from tests.registry.factories import append_entry, issue_reader
from tests.registry.test_violations_api import assert_problem

HEADER = [
    "id",
    "sequence",
    "record_kind",
    "department",
    "case_id",
    "employee_ref",
    "employee_name",
    "rules_cited",
    "platform",
    "effective_on",
    "recorded_at",
    "reported_at",
    "reasons",
    "status",
    "superseded_by",
    "supersedes_id",
    "appeal_outcome",
]


async def exported(
    api: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, str]]:
    response = await api.get("/v1/violations/export.csv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


async def listed(
    api: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of every page of GET /v1/violations with these filters."""
    items: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page_params = {**params, "limit": 2, **({"after": after} if after else {})}
        page = (await api.get("/v1/violations", params=page_params, headers=headers)).json()
        items += page["items"]
        after = page["next_cursor"]
        if after is None:
            return items


async def test_the_export_holds_what_the_pages_list_with_the_same_filters(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("EXP")
    first = await append_entry(
        sessionmaker, department=department, platform="x", rules_cited=["CR1964-18", "CR1964-22"]
    )
    for _ in range(3):
        await append_entry(sessionmaker, department=department, platform="facebook")
    async with unit_of_work(sessionmaker) as session:
        correction = await append_correction(
            session,
            supersedes=first.id,
            reasons="Wrong platform.",
            corrected_by=first.id,
            platform="facebook",
        )
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    moment = datetime.now(UTC).isoformat()

    for filters in (
        {},
        {"status": "current"},
        {"status": "superseded"},
        {"platform": "x"},
        {"rule": "CR1964-18"},
        {"department": department, "platform": "facebook"},
    ):
        rows = await exported(registry_api, auditor, as_of=moment, **filters)
        items = await listed(registry_api, auditor, as_of=moment, **filters)
        assert [row["id"] for row in rows] == [item["id"] for item in items], filters
        for row, item in zip(rows, items, strict=True):
            assert row["sequence"] == str(item["sequence"])
            assert row["status"] == item["status"]
            assert row["superseded_by"] == (item["superseded_by"] or "")
            assert row["employee_name"] == item["employee_name"]
            assert row["rules_cited"] == ";".join(item["rules_cited"])
            assert row["effective_on"] == item["effective_on"]
            assert datetime.fromisoformat(row["recorded_at"]) == datetime.fromisoformat(
                item["recorded_at"]
            )

    everything = await exported(registry_api, auditor)
    assert len(everything) == 5
    superseded = {row["id"]: row for row in everything}[str(first.id)]
    assert superseded["status"] == "superseded"
    assert superseded["superseded_by"] == str(correction.id)
    assert superseded["rules_cited"] == "CR1964-18;CR1964-22"
    # As of a moment before the correction, the original was current and the correction absent.
    before = await exported(registry_api, auditor, as_of=first.recorded_at.isoformat())
    assert [(row["id"], row["status"]) for row in before] == [(str(first.id), "current")]


async def test_a_department_bound_credential_exports_only_its_department(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    own, other = unique_code("EXP"), unique_code("EXP")
    mine = await append_entry(sessionmaker, department=own)
    await append_entry(sessionmaker, department=other)
    authority = bearer(
        await issue_reader(sessionmaker, role="competent_authority", organisation_code=own)
    )
    assert [row["id"] for row in await exported(registry_api, authority)] == [str(mine.id)]
    asked = await registry_api.get(
        "/v1/violations/export.csv", params={"department": other}, headers=authority
    )
    assert_problem(asked, 403)


async def test_a_dashboard_may_not_export_personal_data(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    dashboard = bearer(await issue_reader(sessionmaker, role="dashboard"))
    response = await registry_api.get("/v1/violations/export.csv", headers=dashboard)
    assert assert_problem(response, 403)["code"] == "role-not-allowed"


async def test_cells_a_spreadsheet_would_run_are_quoted_inert(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Bad input tried: a name and reasons that start like formulas (=, +, -, @), and text
    with a comma, a quote and a line break."""
    department = unique_code("EXP")
    await append_entry(
        sessionmaker,
        department=department,
        employee_name='=HYPERLINK("http://evil.example","x")',
        employee_ref="@EMP-1",
        reasons='-2+3, "quoted"\nand a second line',
    )
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    [row] = await exported(registry_api, auditor)
    assert row["employee_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["employee_ref"] == "'@EMP-1"
    assert row["reasons"] == '\'-2+3, "quoted"\nand a second line'


async def test_bad_parameters_are_refused_naming_the_parameter(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Bad input tried: an unknown status, an as_of without a time zone, an overlong rule."""
    auditor = bearer(await issue_reader(sessionmaker))
    for params, field in (
        ({"status": "deleted"}, "status"),
        ({"as_of": "2026-01-01T00:00:00"}, "as_of"),
        ({"rule": "R" * 65}, "rule"),
    ):
        response = await registry_api.get(
            "/v1/violations/export.csv", params=params, headers=auditor
        )
        problem = assert_problem(response, 422)
        assert field in {error["field"].split(".")[-1] for error in problem["errors"]}, problem
