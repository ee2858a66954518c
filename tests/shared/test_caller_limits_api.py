"""Review's members and registry's readers are held to the same limits as intake's clients:
an address guessing credentials gets 429 before its next guess is looked at, and one caller
over its request budget gets 429 with Retry-After, while everyone else is served."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings
from services.registry.settings import current_settings as registry_settings
from services.review.app import create_app as create_review_app
from services.review.settings import ReviewSettings
from services.review.settings import current_settings as review_settings
from shared.messages import Service
from tests.factories import bearer, create_unit_with_members, unique_code
from tests.intake.support import assert_problem, client_of, unique_address
from tests.registry.factories import issue_reader

Sessionmaker = async_sessionmaker[AsyncSession]

# service -> (app factory, settings dependency, settings class, a path any caller may read)
APPS: dict[Service, tuple[Callable[[], FastAPI], Callable[[], Any], type, str]] = {
    "review": (create_review_app, review_settings, ReviewSettings, "/v1/cases"),
    "registry": (create_registry_app, registry_settings, RegistrySettings, "/v1/violations"),
}


@asynccontextmanager
async def running_app(service: Service, **settings: Any) -> AsyncIterator[FastAPI]:
    create_app, dependency, settings_class, _ = APPS[service]
    app = create_app()
    overridden = settings_class(**settings)
    app.dependency_overrides[dependency] = lambda: overridden
    async with app.router.lifespan_context(app):
        yield app


async def member_token(sessionmaker: Sessionmaker) -> str:
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[unique_code("DEPT")])
    return unit.members[0].token


async def reader_token(sessionmaker: Sessionmaker) -> str:
    return await issue_reader(sessionmaker, role="auditor")


TOKENS: dict[Service, Callable[[Sessionmaker], Coroutine[Any, Any, str]]] = {
    "review": member_token,
    "registry": reader_token,
}


def assert_too_many(response: httpx.Response) -> None:
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("service", ["review", "registry"])
async def test_an_address_guessing_credentials_is_held_back(
    service: Service, sessionmaker: Sessionmaker
) -> None:
    token = await TOKENS[service](sessionmaker)
    path = APPS[service][3]
    # Tried: a missing credential, a malformed one and a well-formed wrong one, then the
    # right one from the same address (held back) and from another address (served).
    guesses: list[dict[str, str]] = [{}, bearer("not-a-token"), bearer(f"k_{uuid.uuid4().hex}.x")]
    async with running_app(service, auth_failures_per_minute=len(guesses)) as app:
        async with client_of(app, address=unique_address()) as api:
            failures = [await api.get(path, headers=headers) for headers in guesses]
            held_back = await api.get(path, headers=bearer(token))
        async with client_of(app, address=unique_address()) as elsewhere:
            served = await elsewhere.get(path, headers=bearer(token))
    for failure in failures:
        assert_problem(failure, 401)
    assert_too_many(held_back)
    assert "authentication" in held_back.json()["detail"]
    assert served.status_code == 200, served.text


@pytest.mark.parametrize("service", ["review", "registry"])
async def test_one_caller_over_its_budget_waits_and_others_are_served(
    service: Service, sessionmaker: Sessionmaker
) -> None:
    busy, other = await TOKENS[service](sessionmaker), await TOKENS[service](sessionmaker)
    path = APPS[service][3]
    async with (
        running_app(service, rate_limit_per_minute=2) as app,
        client_of(app, address=unique_address()) as api,
    ):
        answers = [await api.get(path, headers=bearer(busy)) for _ in range(3)]
        served = await api.get(path, headers=bearer(other))
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_too_many(answers[2])
    assert served.status_code == 200, served.text
