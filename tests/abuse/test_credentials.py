"""S2: missing, malformed, unknown, revoked and expired credentials get 401 problem+json on
every route of every service (all but the probes and metrics, read from OpenAPI); a revoked
credential fails on its very next request; and an address that keeps failing gets 429."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.clients.service import revoke_client_credential
from services.registry.readers.models import ReaderCredential
from services.registry.readers.service import revoke_reader_credential
from shared.db import unit_of_work, utcnow
from shared.messages import SERVICES, Service
from tests.abuse.apps import authenticated_routes, filled, service_client
from tests.factories import bearer, create_client, create_unit_with_members, unique_code
from tests.intake.support import assert_problem
from tests.registry.factories import issue_reader

Sessionmaker = async_sessionmaker[AsyncSession]

# Tried on every route: no header, a header of another scheme, a bearer without the key/secret
# split, an over-long key, and a well-formed token nobody was issued.
BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "missing": {},
    "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "no separator": bearer("not-a-token"),
    "empty secret": bearer("k_abc."),
    "over-long key": bearer("k" * 65 + ".secret"),
    "unknown": bearer(f"k_{uuid.uuid4().hex}.{uuid.uuid4().hex}"),
}
# A sweep fails on purpose hundreds of times from one address: lift the limit for it.
SWEEP_SETTINGS = {"auth_failures_per_minute": 100_000}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_refuses_bad_credentials_with_401(service: Service) -> None:
    swept = [(method, path) for s, method, path in authenticated_routes() if s == service]
    assert swept, f"{service} declares no authenticated routes"
    wrong: list[str] = []
    async with service_client(service, **SWEEP_SETTINGS) as api:
        for method, path in swept:
            for label, headers in BAD_CREDENTIALS.items():
                response = await api.request(method, filled(path), headers=headers)
                is_problem = response.headers.get("content-type", "").startswith(
                    "application/problem+json"
                )
                if response.status_code != 401 or not is_problem:
                    wrong.append(f"{method} {path} [{label}]: {response.status_code}")
                elif "WWW-Authenticate" not in response.headers:
                    wrong.append(f"{method} {path} [{label}]: no WWW-Authenticate")
    assert wrong == []


async def fresh_token(service: Service, sessionmaker: Sessionmaker) -> str:
    if service == "intake":
        return await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    if service == "review":
        unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
        return unit.members[0].token
    return await issue_reader(sessionmaker, role="auditor")


async def revoke(service: Service, sessionmaker: Sessionmaker, token: str) -> None:
    key_id = token.split(".", 1)[0]
    async with unit_of_work(sessionmaker) as session:
        if service == "intake":
            await revoke_client_credential(session, key_id=key_id)
        elif service == "review":
            await session.execute(
                text("UPDATE review.member_credential SET revoked_at = now() WHERE key_id = :k"),
                {"k": key_id},
            )
        else:
            credential = (
                await session.execute(
                    text("SELECT id FROM registry.reader_credential WHERE key_id = :k"),
                    {"k": key_id},
                )
            ).scalar_one()
            reader = await session.get(ReaderCredential, credential)
            assert reader is not None
            await revoke_reader_credential(session, credential=reader)


READ_PATH: dict[Service, str] = {
    "intake": "/v1/webhook/deliveries",
    "review": "/v1/cases",
    "registry": "/v1/violations",
}


@pytest.mark.parametrize("service", SERVICES)
async def test_a_revoked_credential_fails_on_its_next_request(
    service: Service, sessionmaker: Sessionmaker
) -> None:
    token = await fresh_token(service, sessionmaker)
    async with service_client(service) as api:
        before = await api.get(READ_PATH[service], headers=bearer(token))
        await revoke(service, sessionmaker, token)
        after = await api.get(READ_PATH[service], headers=bearer(token))
    assert before.status_code == 200, before.text
    problem = assert_problem(after, 401)
    # The same words as for an unknown token: nothing says it was once valid.
    assert problem["detail"] == "The credential is not valid."
    assert token.split(".", 1)[1] not in after.text


async def test_an_expired_portal_credential_gets_401(sessionmaker: Sessionmaker) -> None:
    token = await fresh_token("intake", sessionmaker)
    async with service_client("intake") as api:
        before = await api.get(READ_PATH["intake"], headers=bearer(token))
        async with unit_of_work(sessionmaker) as session:
            await session.execute(
                text("UPDATE intake.client_credential SET expires_at = :at WHERE key_id = :k"),
                {"at": utcnow() - timedelta(seconds=1), "k": token.split(".", 1)[0]},
            )
        after = await api.get(READ_PATH["intake"], headers=bearer(token))
    assert before.status_code == 200, before.text
    assert assert_problem(after, 401)["detail"] == "The credential is not valid."


@pytest.mark.parametrize("service", SERVICES)
async def test_repeated_failures_from_one_address_get_429_then_even_a_good_token_waits(
    service: Service, sessionmaker: Sessionmaker
) -> None:
    token = await fresh_token(service, sessionmaker)
    limit = 5
    async with service_client(service, auth_failures_per_minute=limit) as api:
        failures = [
            await api.get(READ_PATH[service], headers=bearer(f"k_{n}.wrong")) for n in range(limit)
        ]
        throttled = await api.get(READ_PATH[service], headers=bearer("k_more.wrong"))
        held_back = await api.get(READ_PATH[service], headers=bearer(token))
    assert [f.status_code for f in failures] == [401] * limit
    for answer in (throttled, held_back):
        assert_problem(answer, 429)
        assert int(answer.headers["Retry-After"]) >= 1
