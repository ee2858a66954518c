"""S4: inputs built to cost the server more than they are worth are refused, and refusing them
stores nothing. Tried: a body over the cap (declared and streamed), a violator list with too
many rows (as CSV and as JSON, including millions of blank lines and of empty rows), a page size
over its route's maximum, JSON nested 10,000 deep (on a report and on a violator list), and CSV
bombs: one enormous cell, an enormous line, and a quote never closed.

The time and memory these refusals cost are measured by `make bench` (figure S4, in
tests/bench/abuse_figures.py), not here: timing belongs to the quiet machine."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.abuse.apps import service_client
from tests.abuse.bombs import JSON, deep_json, list_bombs
from tests.abuse.calls import client_for
from tests.abuse.rows import all_row_counts
from tests.abuse.world import World
from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.support import assert_problem

Sessionmaker = async_sessionmaker[AsyncSession]
LISTS = "/v1/violator-lists"
LIST_BOMBS = list_bombs(size=3_000_000)


@pytest.fixture(scope="module")
async def institution(sessionmaker: Sessionmaker) -> dict[str, str]:
    return bearer(
        await create_client(
            sessionmaker,
            organisation_code=unique_code("MTI"),
            organisation_kind="institution",
            scopes=("violator-lists:write", "status:read"),
        )
    )


@pytest.fixture(scope="module")
async def intake(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for("intake", world) as client:
        yield client


@pytest.mark.parametrize(
    ("tried", "body", "headers", "status"), LIST_BOMBS, ids=[bomb[0] for bomb in LIST_BOMBS]
)
async def test_a_violator_list_bomb_is_refused_whole_and_stores_nothing(
    intake: httpx.AsyncClient,
    institution: dict[str, str],
    sessionmaker: Sessionmaker,
    tried: str,
    body: Callable[[], bytes],
    headers: dict[str, str],
    status: int,
) -> None:
    before = await all_row_counts(sessionmaker)
    answer = await intake.post(
        LISTS,
        content=body(),
        params={"batch_key": f"bomb-{uuid.uuid4().hex}"},
        headers={**institution, **headers},
    )
    assert_problem(answer, status)
    assert await all_row_counts(sessionmaker) == before, tried


async def test_a_streamed_body_over_the_cap_gets_413_and_stores_nothing(
    world: World, sessionmaker: Sessionmaker
) -> None:
    """No Content-Length: the cap counts the bytes as they arrive."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"subjects": ['
        for _ in range(64):
            yield b" " * 32_768

    before = await all_row_counts(sessionmaker)
    async with client_for("intake", world) as intake:
        answer = await intake.post(
            "/v1/reports",
            content=chunks(),
            headers={**world.a.headers("department"), **JSON},
        )
    assert_problem(answer, 413)
    assert await all_row_counts(sessionmaker) == before


# A JSON body of each service nested 10,000 deep: (service, method, path template, role).
DEEP_BODIES: list[tuple[str, str, str, str]] = [
    ("intake", "POST", "/v1/reports", "department"),
    ("intake", "POST", "/v1/permission-requests", "department"),
    ("intake", "PUT", "/v1/webhook", "department"),
    ("review", "POST", "/v1/cases/{case_id}/notice", "assignee"),
    ("registry", "POST", "/v1/violations/{record_id}/sanctions", "competent_authority"),
]


@pytest.mark.parametrize(("service", "method", "path", "role"), DEEP_BODIES)
async def test_json_nested_10000_deep_gets_422_and_stores_nothing(
    world: World, sessionmaker: Sessionmaker, service: Any, method: str, path: str, role: str
) -> None:
    url = path.format(**world.a.ids)
    before = await all_row_counts(sessionmaker)
    async with client_for(service, world) as api:
        for body in (deep_json(), b'{"reasons": ' + deep_json() + b"}"):
            answer = await api.request(
                method, url, content=body, headers={**world.a.headers(role), **JSON}
            )
            assert_problem(answer, 422)
    assert await all_row_counts(sessionmaker) == before


# Every paged route and its largest page: one more is refused naming `limit`.
PAGED: list[tuple[str, str, str, int]] = [
    ("intake", "/v1/violator-lists/{batch_id}/rejections", "institution", 1000),
    ("intake", "/v1/violator-lists/{batch_id}/entries", "institution", 1000),
    ("intake", "/v1/webhook/deliveries", "department", 200),
    ("registry", "/v1/violations", "auditor", 200),
    ("registry", "/v1/violations/{record_id}/sanctions", "auditor", 200),
    ("registry", "/v1/permissions", "auditor", 200),
    ("registry", "/v1/official-accounts", "auditor", 200),
    ("registry", "/v1/employees/{employee_ref}/record-reads", "auditor", 500),
    ("registry", "/v1/audit/checkpoints", "auditor", 200),
]


@pytest.mark.parametrize(("service", "path", "role", "largest"), PAGED)
async def test_a_page_size_over_the_maximum_gets_422_naming_limit(
    world: World, service: Any, path: str, role: str, largest: int
) -> None:
    url = path.format(**world.a.ids)
    async with client_for(service, world) as api:
        headers = world.a.headers(role)
        served = await api.get(url, params={"limit": largest}, headers=headers)
        assert served.status_code == 200, served.text
        for too_many in (largest + 1, 10**9, 10**30, -1, 0):
            problem = assert_problem(
                await api.get(url, params={"limit": too_many}, headers=headers), 422
            )
            assert [error["field"] for error in problem["errors"]] == ["limit"]


async def test_a_report_with_10000_subjects_gets_422_naming_subjects(
    world: World, sessionmaker: Sessionmaker
) -> None:
    """Too many rows in an ordinary body: a report names a handful of subjects, not thousands."""
    body = report_body()
    body["subjects"] = body["subjects"] * 10_000
    before = await all_row_counts(sessionmaker)
    async with service_client("intake") as intake:
        answer = await intake.post(
            "/v1/reports",
            content=json.dumps(body),
            headers={**world.a.headers("department"), **JSON},
        )
    # Either the body cap or the schema's bound refuses it; either way nothing is stored.
    assert answer.status_code in (413, 422), answer.text
    if answer.status_code == 422:
        problem = assert_problem(answer, 422)
        assert any(error["field"] == "subjects" for error in problem["errors"])
    assert await all_row_counts(sessionmaker) == before
