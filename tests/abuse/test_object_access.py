"""S1, the object-level matrix: every role of every organisation calls every route that takes
an id (read from the services' OpenAPI) with another organisation's ids, and gets 404, the same
answer as for an id that does not exist (403 only where its role may not call the route at
all; each such pair is named below). No list any role reads holds the other organisation's
ids or codes. The other organisation's own callers read the same ids, proving they exist."""

from __future__ import annotations

import pytest

from shared.messages import SERVICES, Service
from tests.abuse.apps import authenticated_routes
from tests.abuse.calls import call, client_for
from tests.abuse.policy import POLICY
from tests.abuse.world import ROLES, Organisation, World

# Id parameters the matrix knows how to fill with an organisation's own object. A new id
# parameter fails the matrix until it is added here (with an object in the world) or listed
# in KNOWN_GAPS with the reason it cannot be covered yet.
COVERED_PARAMETERS = frozenset(
    {
        "report_id",
        "request_id",
        "evidence_file_id",
        "batch_id",
        "case_id",
        "charge_id",
        "unit_id",
        "member_id",
        "record_id",
        "employee_ref",
        "notice_id",
        "extension_id",
    }
)
KNOWN_GAPS: dict[tuple[str, str, str], str] = {
    ("review", "GET", "/v1/cases/{case_id}/appeal"): (
        "the world holds no appealed case, so its owner reads 404 appeal-not-found; the role "
        "check is in S5 and foreign case ids are refused by the case's own routes"
    ),
    ("review", "GET", "/v1/cases/{case_id}/notice/bundle"): (
        "the world's case has no notice served, so its owner reads 409 no-notice; the role "
        "check is in S5 and the case is loaded by the same dependency as GET /v1/cases/{case_id}"
    ),
}

# (route, role) pairs answered 403 rather than 404 with a foreign id: the role may never call
# the route, so its credential is refused before any id is looked at. Recorded as seen on
# 2026-11-30; the test fails if the set changes, so a change is a decision, not a drift.
ROLE_REFUSALS = frozenset(
    {
        "GET /v1/reports/{report_id} as institution",
        "GET /v1/evidence-files/{evidence_file_id} as institution",
        "GET /v1/evidence-files/{evidence_file_id}/content as institution",
        "POST /v1/evidence-files/{evidence_file_id}/hand-overs as institution",
        "GET /v1/permission-requests/{request_id} as institution",
        "GET /v1/violator-lists/{batch_id} as department",
        "GET /v1/violator-lists/{batch_id}/rejections as department",
        "GET /v1/violator-lists/{batch_id}/entries as department",
        "GET /v1/violations/{record_id} as dashboard",
        "POST /v1/violations/{record_id}/sanctions as auditor",
        "POST /v1/violations/{record_id}/sanctions as dashboard",
        "GET /v1/violations/{record_id}/sanctions as dashboard",
        # Added 2026-12-01 with the employee record: dashboards never read personal records.
        "GET /v1/employees/{employee_ref}/record as dashboard",
        "GET /v1/employees/{employee_ref}/record-reads as dashboard",
        # Added 2026-12-01 with notices: only a department's portal answers for its employees.
        "GET /v1/notices/{notice_id} as institution",
        "POST /v1/notices/{notice_id}/receipt as institution",
        "POST /v1/notices/{notice_id}/replies as institution",
    }
)


def id_routes(service: Service) -> list[tuple[str, str, str]]:
    return [route for route in authenticated_routes() if route[0] == service and "{" in route[2]]


def parameters_of(path: str) -> set[str]:
    return {part[1:-1] for part in path.split("/") if part.startswith("{")}


def test_every_id_route_is_covered_or_a_named_gap() -> None:
    uncovered = [
        route
        for service in SERVICES
        for route in id_routes(service)
        if not parameters_of(route[2]) <= COVERED_PARAMETERS and route not in KNOWN_GAPS
    ]
    assert uncovered == []
    assert set(KNOWN_GAPS) <= set(authenticated_routes()), "a gap names a route that is gone"


@pytest.mark.parametrize("service", SERVICES)
async def test_every_role_gets_404_for_another_organisations_ids(
    service: Service, world: World
) -> None:
    deviations: list[str] = []
    refused_by_role: list[str] = []
    paths = {route[2] for route in id_routes(service)}
    async with client_for(service, world) as api:
        for route in id_routes(service):
            if route in KNOWN_GAPS:
                continue
            allowed = POLICY[route]
            for role in ROLES[service]:
                answer = await call(api, route, world.a, role, world.b.ids)
                if answer.status_code == 404:
                    continue
                if answer.status_code == 403 and role not in allowed:
                    refused_by_role.append(f"{route[1]} {route[2]} as {role}")
                    continue
                deviations.append(f"{route[1]} {route[2]} as {role}: {answer.status_code}")
            # Mixed: the caller's own unit with the other unit's member.
            if "{member_id}" in route[2]:
                mixed = {**world.a.ids, "member_id": world.b.ids["member_id"]}
                answer = await call(api, route, world.a, "chair", mixed)
                if answer.status_code != 404:
                    deviations.append(f"{route[1]} {route[2]} own unit, foreign member")
        # The same ids are real: the owning organisation reads each of them.
        for route in id_routes(service):
            if route[1] != "GET" or route in KNOWN_GAPS:
                continue
            for role in POLICY[route]:
                answer = await call(api, route, world.b, role, world.b.ids)
                if answer.status_code != 200:
                    deviations.append(f"owner {route[2]} as {role}: {answer.status_code}")
    assert deviations == []
    assert set(refused_by_role) == {r for r in ROLE_REFUSALS if r.split(" ")[1] in paths}


def foreign_markers(org: Organisation) -> list[str]:
    return [org.department, org.institution, *org.ids.values()]


@pytest.mark.parametrize("service", SERVICES)
async def test_no_list_or_read_shows_another_organisations_rows(
    service: Service, world: World
) -> None:
    """Every GET route, read by every role with its own ids, holds none of the other
    organisation's ids or codes."""
    leaks: list[str] = []
    markers = foreign_markers(world.b)
    async with client_for(service, world) as api:
        for route in authenticated_routes():
            if route[0] != service or route[1] != "GET" or route in KNOWN_GAPS:
                continue
            for role in ROLES[service]:
                answer = await call(api, route, world.a, role, world.a.ids)
                body = answer.content.decode("utf-8", errors="replace")
                leaks += [f"{route[2]} as {role}: {m}" for m in markers if m in body]
    assert leaks == []


async def test_asking_a_list_for_the_other_department_is_refused(world: World) -> None:
    """Tried: each registry list filtered by the other organisation's department, as every
    role bound to this one: 403 (outside its organisation) or 403 by role, and no rows."""
    wrong: list[str] = []
    async with client_for("registry", world) as api:
        for path in ("/v1/violations", "/v1/permissions", "/v1/official-accounts"):
            for role in ROLES["registry"]:
                answer = await api.get(
                    path, params={"department": world.b.department}, headers=world.a.headers(role)
                )
                if answer.status_code != 403 or world.b.ids["record_id"] in answer.text:
                    wrong.append(f"{path} as {role}: {answer.status_code}")
    assert wrong == []
