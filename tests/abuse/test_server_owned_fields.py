"""S3: a caller cannot set what the server owns. Each of id, status, department, assignee_id,
sha256, reporter_ref, recorded_by and created_at, injected into every JSON body of every
service (at the top and, for a report, inside its reporter and its first subject), is refused
with 422 naming the field, and no row of any table changes. Reads never carry what the role
may not see: a dashboard gets no moderator's name, and review never shows who reported."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messages import SERVICES, Service
from tests.abuse.apps import authenticated_routes, filled
from tests.abuse.calls import client_for
from tests.abuse.policy import POLICY, object_ids, request_of
from tests.abuse.rows import all_row_counts
from tests.abuse.world import World
from tests.intake.support import assert_problem

Sessionmaker = async_sessionmaker[AsyncSession]
SERVER_OWNED: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000001",
    "status": "accepted",
    "department": "SOMEONE-ELSES",
    "assignee_id": "00000000-0000-0000-0000-000000000002",
    "sha256": "0" * 64,
    "reporter_ref": "forged-reporter",
    "recorded_by": "00000000-0000-0000-0000-000000000003",
    "created_at": "2020-01-01T00:00:00Z",
}
# Places inside a body where a report nests objects of its own.
NESTED: dict[str, tuple[str, ...]] = {"/v1/reports": ("reporter", "subjects")}


def json_body_routes(service: Service) -> list[tuple[str, str, str]]:
    return [
        route
        for route in authenticated_routes()
        if route[0] == service and "json" in request_of(route)
    ]


def injected(body: dict[str, Any], path: str, name: str) -> list[tuple[dict[str, Any], str]]:
    """(body with the field injected, the field path the problem should name)."""
    variants = [({**body, name: SERVER_OWNED[name]}, name)]
    for place in NESTED.get(path, ()):
        nested = body[place]
        if isinstance(nested, list):
            variants.append(({**body, place: [{**nested[0], name: SERVER_OWNED[name]}]}, name))
        else:
            variants.append(({**body, place: {**nested, name: SERVER_OWNED[name]}}, name))
    return variants


@pytest.mark.parametrize("service", SERVICES)
async def test_server_owned_fields_in_any_body_get_422_and_store_nothing(
    service: Service, world: World, sessionmaker: Sessionmaker
) -> None:
    routes = json_body_routes(service)
    assert routes, f"{service} has no JSON bodies to try"
    before = await all_row_counts(sessionmaker)
    wrong: list[str] = []
    async with client_for(service, world) as api:
        for route in routes:
            _, method, path = route
            if not POLICY[route]:
                # No role of the world may call it (an appeal's decision needs an appellate
                # authority): its refusal comes before its body; tests/review covers its 422s.
                continue
            role = sorted(POLICY[route])[0]
            url = filled(path, object_ids(path, world.a.ids))
            for name in SERVER_OWNED:
                for body, field in injected(request_of(route)["json"], path, name):
                    answer = await api.request(
                        method, url, json=body, headers=world.a.headers(role)
                    )
                    if answer.status_code != 422:
                        wrong.append(f"{method} {path} +{name}: {answer.status_code}")
                        continue
                    problem = assert_problem(answer, 422)
                    named = [str(error.get("field", "")) for error in problem.get("errors", [])]
                    if not any(n == field or n.endswith(f".{field}") for n in named):
                        wrong.append(f"{method} {path} +{name}: names {named}")
    assert wrong == []
    assert await all_row_counts(sessionmaker) == before


async def test_a_dashboard_reads_official_accounts_without_moderators_names(
    world: World,
) -> None:
    async with client_for("registry", world) as api:
        dashboard = await api.get("/v1/official-accounts", headers=world.a.headers("dashboard"))
        auditor = await api.get("/v1/official-accounts", headers=world.a.headers("auditor"))
    assert dashboard.status_code == auditor.status_code == 200
    # The world's official account names two moderators (tests/registry/factories.py).
    assert "Ayesha Khan" in auditor.text and "EMP-M1" in auditor.text
    for personal in ("Ayesha Khan", "Bilal Ahmed", "EMP-M1", "EMP-M2"):
        assert personal not in dashboard.text


async def test_review_never_shows_who_reported(world: World) -> None:
    async with client_for("review", world) as api:
        case = await api.get(
            f"/v1/cases/{world.a.ids['case_id']}", headers=world.a.headers("chair")
        )
        listed = await api.get("/v1/cases", headers=world.a.headers("chair"))
    assert case.status_code == listed.status_code == 200
    for answer in (case, listed):
        assert "reporter" not in answer.text
        assert "EMP-REPORTER" not in answer.text and "Complaints Cell" not in answer.text
