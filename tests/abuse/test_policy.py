"""S5: the role x endpoint policy of tests/abuse/policy.py checked against the running
services. Every route of every OpenAPI document is in the table; every role of the service
calls it with its own organisation's objects and a valid body. A role the table allows must be
served (2xx, or a 4xx that is about the object's state, never 401/403/404); a role it does not
allow must be refused (403, or 404 where the object is not the role's to see). 0 deviations."""

from __future__ import annotations

import httpx
import pytest

from shared.messages import SERVICES, Service
from tests.abuse.apps import authenticated_routes
from tests.abuse.calls import call, client_for
from tests.abuse.policy import POLICY
from tests.abuse.world import ROLES, World

REFUSED = frozenset({403, 404})
NOT_SERVED = frozenset({401, 403, 404})
# A 404 that is about the object's state, not the caller: the world's case has no appeal.
STATE_NOT_FOUND = frozenset({"appeal-not-found"})


def served(status: int, code: str | None) -> bool:
    if status == 404 and code in STATE_NOT_FOUND:
        return True
    return status not in NOT_SERVED and status < 500


def test_the_table_names_every_route_and_only_those() -> None:
    assert set(POLICY) == set(authenticated_routes())
    for (service, _, _), roles in POLICY.items():
        assert roles <= set(ROLES[service])


def problem_code(answer: httpx.Response) -> str | None:
    if not answer.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    code = answer.json().get("code")
    return code if isinstance(code, str) else None


@pytest.mark.parametrize("service", SERVICES)
async def test_every_role_is_served_or_refused_as_the_table_says(
    service: Service, world: World
) -> None:
    deviations: list[str] = []
    async with client_for(service, world) as api:
        for route in authenticated_routes():
            if route[0] != service:
                continue
            for role in ROLES[service]:
                answer = await call(api, route, world.a, role, world.a.ids)
                status = answer.status_code
                allowed = role in POLICY[route]
                code = problem_code(answer)
                if allowed and not served(status, code):
                    deviations.append(f"{route[1]} {route[2]} as {role}: {status} {answer.text}")
                if not allowed and (status not in REFUSED or code in STATE_NOT_FOUND):
                    deviations.append(f"{route[1]} {route[2]} as {role} allowed: {status}")
    assert deviations == []
