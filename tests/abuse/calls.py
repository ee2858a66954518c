"""How the abuse tests call a route as one role of one organisation, with a valid request."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import httpx

from shared.messages import Service
from tests.abuse.apps import filled, service_client
from tests.abuse.policy import object_ids, request_of
from tests.abuse.world import Organisation, World


async def call(
    api: httpx.AsyncClient,
    route: tuple[str, str, str],
    org: Organisation,
    role: str,
    ids: dict[str, str],
) -> httpx.Response:
    _, method, path = route
    options = request_of(route)
    headers = {**org.headers(role), **options.pop("headers", {})}
    return await api.request(
        method, filled(path, object_ids(path, ids)), headers=headers, **options
    )


def client_for(service: Service, world: World) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    if service == "intake":
        return service_client(service, evidence_directory=world.evidence_directory)
    return service_client(service)
