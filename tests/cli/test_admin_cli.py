"""The administration commands of `conduct`: units and members, client and reader credentials.
What they issue works against the real APIs; what they list never shows a secret; what they
refuse stores nothing."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from shared.cli import app
from tests.factories import bearer, open_report_case, report_body, unique_code
from tests.support import count_rows

runner = CliRunner()

ADMIN_COMMANDS = [
    ["units", "create"],
    ["units", "list"],
    ["units", "add-member"],
    ["units", "members"],
    ["units", "cover"],
    ["clients", "issue"],
    ["clients", "list"],
    ["clients", "rotate"],
    ["clients", "revoke"],
    ["readers", "issue"],
    ["readers", "list"],
    ["readers", "revoke"],
]
STORED_TABLES = (
    "review.monitoring_unit",
    "review.unit_jurisdiction",
    "review.member",
    "review.member_event",
    "review.member_credential",
    "intake.client_credential",
    "registry.reader_credential",
)


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=" ".join)
def test_every_admin_command_has_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: conduct" in result.output


async def invoke(*arguments: str) -> tuple[int, str]:
    result = await asyncio.to_thread(runner.invoke, app, list(arguments))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def printed_token(output: str) -> str:
    found = re.findall(r"^token: (\S+)$", output, flags=re.MULTILINE)
    assert len(found) == 1, output
    return str(found[0])


def secret_of(token: str) -> str:
    return token.partition(".")[2]


async def stored_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return {table: await count_rows(sessionmaker, table) for table in STORED_TABLES}


async def create_unit(jurisdiction: str) -> str:
    code = unique_code("UNIT")
    status, output = await invoke(
        "units", "create", code, "--name", f"Unit {code}", "--jurisdiction", jurisdiction
    )
    assert status == 0, output
    return code


async def add_member(unit_code: str, *, role: str, name: str = "Ayesha Khan") -> tuple[int, str]:
    return await invoke(
        "units",
        "add-member",
        unit_code,
        "--name",
        name,
        "--employee-ref",
        f"EMP-{unique_code('M')}",
        "--office",
        "Secretariat",
        "--role",
        role,
    )


async def test_a_unit_and_member_made_on_the_command_line_can_work_in_review(
    review_api: httpx.AsyncClient,
) -> None:
    department, institution = unique_code("DEPT"), unique_code("MTI")
    code = await create_unit(f"{department},{institution}")

    status, output = await add_member(code, role="chair")
    assert status == 0, output
    assert "shown only now" in output
    token = printed_token(output)

    cases = await review_api.get("/v1/cases", headers=bearer(token))
    assert cases.status_code == 200, cases.text

    status, listed = await invoke("units", "list", "--json")
    assert status == 0, listed
    units = {unit["code"]: unit for unit in map(json.loads, listed.splitlines())}
    assert units[code]["jurisdiction"] == sorted([department, institution])
    assert units[code]["active_members"] == 1

    status, table = await invoke("units", "members", code)
    assert status == 0, table
    assert "Ayesha" in table and "chair" in table and "active" in table
    status, members = await invoke("units", "members", code, "--json")
    [member] = map(json.loads, members.splitlines())
    assert member["role"] == "chair" and member["standing"] == "active"
    assert member["open_cases"] == 0
    assert secret_of(token) not in table + members + listed


async def test_unit_refusals_store_nothing(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    code = await create_unit(unique_code("DEPT"))
    before = await stored_counts(sessionmaker)

    # The same code again.
    status, output = await invoke(
        "units", "create", code, "--name", "Again", "--jurisdiction", "DEPT-X"
    )
    assert status == 1 and "exists already" in output
    # No jurisdiction at all (only commas).
    status, output = await invoke(
        "units", "create", unique_code("UNIT"), "--name", "None", "--jurisdiction", ",,"
    )
    assert status == 2 and "at least one" in output
    # A role review does not know.
    status, output = await add_member(code, role="director")
    assert status == 2 and "unknown role 'director'" in output
    # An office longer than its column (200 characters).
    status, output = await invoke(
        "units",
        "add-member",
        code,
        "--name",
        "Long Office",
        "--employee-ref",
        "EMP-1",
        "--office",
        "x" * 201,
        "--role",
        "member",
    )
    assert status == 1 and "too long" in output, output
    # A unit that does not exist.
    status, output = await add_member("NO-SUCH-UNIT", role="member")
    assert status == 1 and "no unit NO-SUCH-UNIT" in output
    status, output = await invoke("units", "members", "NO-SUCH-UNIT")
    assert status == 1 and "no unit NO-SUCH-UNIT" in output
    assert "token:" not in output

    assert await stored_counts(sessionmaker) == before


@pytest.mark.usefixtures("catalogue")
async def test_a_client_issued_on_the_command_line_reports_until_revoked(
    intake_api: httpx.AsyncClient,
) -> None:
    department = unique_code("DEPT")
    status, output = await invoke(
        "clients",
        "issue",
        "--kind",
        "department",
        "--organisation",
        department,
        "--scope",
        "reports:write",
        "--scope",
        "status:read",
        "--label",
        "Health portal",
    )
    assert status == 0, output
    token = printed_token(output)
    key_id = token.partition(".")[0]

    accepted = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
    assert accepted.status_code == 202, accepted.text

    status, table = await invoke("clients", "list", "--organisation", department)
    assert status == 0, table
    assert "Health" in table and "portal" in table
    status, listed = await invoke("clients", "list", "--organisation", department, "--json")
    [credential] = map(json.loads, listed.splitlines())
    assert credential["key_id"] == key_id
    assert credential["scopes"] == ["reports:write", "status:read"]
    assert credential["revoked_at"] is None
    assert "secret_hash" not in credential
    everything = (await invoke("clients", "list"))[1] + (await invoke("clients", "list", "--json"))[
        1
    ]
    for shown in (table, listed, everything):
        assert secret_of(token) not in shown

    status, output = await invoke("clients", "revoke", key_id)
    assert status == 0, output
    refused = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
    assert refused.status_code == 401
    status, listed = await invoke("clients", "list", "--organisation", department, "--json")
    assert json.loads(listed)["revoked_at"] is not None


@pytest.mark.usefixtures("catalogue")
async def test_a_rotated_client_works_with_both_tokens_during_the_overlap(
    intake_api: httpx.AsyncClient,
) -> None:
    department = unique_code("DEPT")
    status, output = await invoke(
        "clients",
        "issue",
        "--kind",
        "department",
        "--organisation",
        department,
        "--scope",
        "reports:write",
        "--label",
        "Portal",
    )
    old = printed_token(output)

    status, output = await invoke(
        "clients", "rotate", old.partition(".")[0], "--overlap-hours", "2"
    )
    assert status == 0, output
    assert "shown only now" in output
    new = printed_token(output)
    assert new != old

    for token in (old, new):
        response = await intake_api.post("/v1/reports", json=report_body(), headers=bearer(token))
        assert response.status_code == 202, response.text

    status, listed = await invoke("clients", "list", "--organisation", department, "--json")
    credentials = {entry["key_id"]: entry for entry in map(json.loads, listed.splitlines())}
    assert credentials[old.partition(".")[0]]["expires_at"] is not None
    assert credentials[new.partition(".")[0]]["expires_at"] is None
    assert (
        credentials[old.partition(".")[0]]["client_id"]
        == credentials[new.partition(".")[0]]["client_id"]
    )


async def test_credential_refusals_store_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    status, output = await invoke(
        "clients",
        "issue",
        "--kind",
        "department",
        "--organisation",
        unique_code("DEPT"),
        "--scope",
        "reports:write",
        "--label",
        "Portal",
    )
    key_id = printed_token(output).partition(".")[0]
    before = await stored_counts(sessionmaker)
    common = ["--organisation", "DEPT-X", "--label", "L"]

    # A scope intake does not know.
    status, output = await invoke(
        "clients", "issue", "--kind", "department", "--scope", "reports:delete", *common
    )
    assert status == 2 and "unknown scope 'reports:delete'" in output
    # A kind of organisation intake does not know.
    status, output = await invoke(
        "clients", "issue", "--kind", "ministry", "--scope", "reports:write", *common
    )
    assert status == 2 and "unknown kind 'ministry'" in output
    # Key ids nobody issued.
    status, output = await invoke("clients", "rotate", "ck_0000000000000000")
    assert status == 1 and "No client credential ck_0000000000000000" in output
    status, output = await invoke("clients", "revoke", "ck_0000000000000000")
    assert status == 1 and "No client credential ck_0000000000000000" in output
    # An overlap longer than the service allows (30 days).
    status, output = await invoke("clients", "rotate", key_id, "--overlap-hours", "1000")
    assert status == 1 and "overlap must be between" in output
    # A reader role the registry does not know.
    status, output = await invoke("readers", "issue", "--role", "journalist", "--label", "L")
    assert status == 2 and "unknown role 'journalist'" in output

    assert await stored_counts(sessionmaker) == before
    # The refused rotation left the credential as it was.
    status, listed = await invoke("clients", "list", "--json")
    [credential] = [
        entry for entry in map(json.loads, listed.splitlines()) if entry["key_id"] == key_id
    ]
    assert credential["expires_at"] is None


async def test_a_reader_issued_on_the_command_line_reads_the_registry_until_revoked(
    registry_api: httpx.AsyncClient,
) -> None:
    status, output = await invoke(
        "readers", "issue", "--role", "auditor", "--label", "Audit [HQ] office"
    )
    assert status == 0, output
    assert "shown only now" in output
    token = printed_token(output)
    key_id = token.partition(".")[0]

    response = await registry_api.get("/v1/audit/checkpoints", headers=bearer(token))
    assert response.status_code == 200, response.text

    status, table = await invoke("readers", "list")
    assert status == 0 and "[HQ]" in table  # shown as typed, not taken for markup
    status, listed = await invoke("readers", "list", "--json")
    readers = {entry["key_id"]: entry for entry in map(json.loads, listed.splitlines())}
    assert readers[key_id]["role"] == "auditor" and readers[key_id]["revoked_at"] is None
    assert secret_of(token) not in table + listed

    status, output = await invoke("readers", "revoke", key_id)
    assert status == 0, output
    response = await registry_api.get("/v1/audit/checkpoints", headers=bearer(token))
    assert response.status_code == 401

    # A key id nobody issued.
    status, output = await invoke("readers", "revoke", "rk_0000000000000000")
    assert status == 1 and "no reader credential rk_0000000000000000" in output


async def test_covering_an_organisation_routes_its_waiting_cases_to_the_unit(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A case opened while no unit served its department waits unrouted; once a unit covers
    the department, the case is routed to it and assigned to its member, on the history."""
    served, uncovered = unique_code("DEPT"), unique_code("DEPT")
    code = await create_unit(served)
    status, output = await add_member(code, role="member", name="Bilal Ahmed")
    assert status == 0, output
    token = printed_token(output)
    case_id = await open_report_case(sessionmaker, department=uncovered)
    assert (await review_api.get(f"/v1/cases/{case_id}", headers=bearer(token))).status_code == 404

    status, output = await invoke("units", "cover", code, "--jurisdiction", f"{uncovered},{served}")
    assert status == 0, output
    output = " ".join(output.split())  # as said, not as the terminal wrapped it
    assert f"now also serves {uncovered}" in output and f"already served: {served}" in output
    assert "1 waiting case(s) routed" in output
    case = await review_api.get(f"/v1/cases/{case_id}", headers=bearer(token))
    assert case.status_code == 200, case.text
    assert case.json()["state"] == "assigned"
    reasons = [event["reason"] for event in case.json()["history"]]
    assert any(f"routed to unit {code}" in reason for reason in reasons), reasons

    # Covering again adds nothing and routes nothing; an unknown unit is refused.
    status, output = await invoke("units", "cover", code, "--jurisdiction", uncovered)
    output = " ".join(output.split())
    assert status == 0 and "nothing new" in output and "0 waiting case(s)" in output
    status, output = await invoke("units", "cover", "NO-SUCH-UNIT", "--jurisdiction", uncovered)
    assert status == 1 and "no unit NO-SUCH-UNIT" in output


async def test_the_minute_sweep_routes_cases_whose_organisation_a_unit_came_to_serve(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A jurisdiction added another way (or a routing that failed) is caught up by the sweep."""
    from services.review.cases.tasks import sweep_waiting_cases
    from tests.review.steps import case_row, execute, worker_ctx

    uncovered = unique_code("DEPT")
    code = await create_unit(unique_code("DEPT"))
    status, output = await add_member(code, role="member")
    assert status == 0, output
    case_id = await open_report_case(sessionmaker, department=uncovered)
    await execute(
        sessionmaker,
        "INSERT INTO review.unit_jurisdiction (unit_id, organisation_code) "
        "SELECT id, :organisation FROM review.monitoring_unit WHERE code = :code",
        organisation=uncovered,
        code=code,
    )
    assert await sweep_waiting_cases(worker_ctx(sessionmaker)) >= 1
    assert (await case_row(sessionmaker, case_id))["assignee_id"] is not None
