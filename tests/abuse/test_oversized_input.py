"""S4: inputs built to cost the server more than they are worth are refused, and refusing them
stores nothing. Tried: a body over the cap (declared and streamed), a violator list with too
many rows (as CSV and as JSON, including millions of blank lines and of empty rows), a page size
over its route's maximum, JSON nested 10,000 deep (on a report and on a violator list), and CSV
bombs: one enormous cell, an enormous line, and a quote never closed.

The time and memory these refusals cost are measured by `make bench` (figure S4, in
tests/bench/abuse_figures.py), not here: timing belongs to the quiet machine."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.abuse.apps import APPS, service_client
from tests.abuse.bombs import JSON, deep_json, list_bombs
from tests.abuse.calls import client_for
from tests.abuse.early_answers import post_watching
from tests.abuse.rows import all_row_counts
from tests.abuse.world import World
from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.support import assert_problem
from tests.stack import free_port

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


CAP = 1_048_576  # MAX_REQUEST_BYTES, the cap of /v1/reports
MIB = 1024 * 1024


@pytest.fixture
async def intake_server() -> AsyncIterator[tuple[str, int]]:
    """intake's app behind a real uvicorn on a port of its own: what a socket sees."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            APPS["intake"][0](), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "intake's server did not start"
        await asyncio.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        await serving


def megabytes(count: int) -> Iterator[bytes]:
    return (b" " * MIB for _ in range(count))


async def test_a_declared_body_over_the_cap_is_refused_on_its_headers(
    intake_server: tuple[str, int],
) -> None:
    """Only the headers sent, declaring 5 MiB: the 413 comes without waiting for any of the
    body, and, the body being within what the server drops, the connection stays open."""
    early = await post_watching(*intake_server, "/v1/reports", [], declared=5 * MIB)
    assert early.answer is not None and early.answer.status == 413, early
    assert early.answer.headers["content-type"].startswith("application/problem+json")
    assert json.loads(early.answer.body)["code"] == "payload-too-large"
    assert not early.closed and early.answer.headers.get("connection") != "close"


async def test_a_declared_body_far_past_the_cap_is_refused_and_its_connection_closed(
    intake_server: tuple[str, int],
) -> None:
    """200 MiB declared: the server will not read that, even to drop it. The 413 comes on the
    headers with Connection: close, and the connection is closed."""
    early = await post_watching(*intake_server, "/v1/reports", [], declared=200 * MIB)
    assert early.answer is not None and early.answer.status == 413, early
    assert json.loads(early.answer.body)["code"] == "payload-too-large"
    assert early.answer.headers.get("connection") == "close" and early.closed


async def test_a_streamed_body_far_past_the_cap_has_its_connection_closed(
    intake_server: tuple[str, int],
) -> None:
    """No Content-Length, 200 MiB coming: the server drops what comes past the cap up to a
    bound (the cap plus 8 MiB), then answers 413 with Connection: close and closes the
    connection under the sender, which may lose the answer to the reset (it would not stop)."""
    early = await post_watching(*intake_server, "/v1/reports", megabytes(200), declared=None)
    assert early.closed
    assert CAP < early.sent < 100 * MIB, early.sent
    if early.answer is not None:
        assert early.answer.status == 413, early.answer
        assert early.answer.headers.get("connection") == "close"


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
