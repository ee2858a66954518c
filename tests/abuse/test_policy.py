"""S5: the role x endpoint policy of tests/abuse/policy.py checked against the running
services. Every route of every OpenAPI document is in the table; every role of the service
calls it with its own organisation's objects and a valid body. A role the table allows must be
served (2xx, or a 4xx that is about the object's state, never 401/403/404); a role it does not
allow must be refused (403, or 404 where the object is not the role's to see). 0 deviations."""

from __future__ import annotations

import pytest

from shared.messages import SERVICES, Service
from tests.abuse.apps import authenticated_routes
from tests.abuse.calls import call, client_for
from tests.abuse.policy import POLICY
from tests.abuse.world import ROLES, World

REFUSED = frozenset({403, 404})
NOT_SERVED = frozenset({401, 403, 404})


def test_the_table_names_every_route_and_only_those() -> None:
    assert set(POLICY) == set(authenticated_routes())
    for (service, _, _), roles in POLICY.items():
        assert roles <= set(ROLES[service])


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
                if allowed and (status in NOT_SERVED or status >= 500):
                    deviations.append(f"{route[1]} {route[2]} as {role}: {status} {answer.text}")
                if not allowed and status not in REFUSED:
                    deviations.append(f"{route[1]} {route[2]} as {role} allowed: {status}")
    assert deviations == []
