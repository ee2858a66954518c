"""Idempotency-Key on POST /v1/reports over HTTP: a retry replays the first answer and stores
nothing new, whatever happened to the first answer on its way back; a key cannot be reused for
another request; copies in flight at once never make a second report."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.idempotency.tasks import prune_idempotency_keys
from services.intake.settings import IntakeSettings
from shared.consumer import WorkerResources
from shared.idempotency import claim_key
from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.support import (
    assert_problem,
    client_id_of,
    client_of,
    department_report_count,
    running_app,
)
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("catalogue")

STORED_TABLES = ("intake.report", "intake.outbox_message", "intake.idempotency_key")


async def stored_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return {table: await count_rows(sessionmaker, table) for table in STORED_TABLES}


def keyed(token: str, key: str) -> dict[str, str]:
    return {**bearer(token), "Idempotency-Key": key}


async def new_portal(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    department = unique_code("DEPT")
    return department, await create_client(sessionmaker, organisation_code=department)


async def test_a_retry_with_the_same_key_replays_the_first_answer_and_stores_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    body, key = report_body(), str(uuid.uuid4())

    first = await intake_api.post("/v1/reports", json=body, headers=keyed(token, key))
    after_first = await stored_counts(sessionmaker)
    retries = [
        await intake_api.post("/v1/reports", json=body, headers=keyed(token, key)) for _ in range(3)
    ]

    assert first.status_code == 202, first.text
    assert first.headers["location"] == first.json()["status_url"]
    assert "idempotent-replayed" not in first.headers
    for retry in retries:
        assert retry.status_code == 202
        assert retry.content == first.content
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["content-type"] == first.headers["content-type"]
        assert retry.headers["idempotent-replayed"] == "true"
    assert await stored_counts(sessionmaker) == after_first
    assert await department_report_count(sessionmaker, department) == 1


async def test_the_same_data_serialised_differently_is_the_same_request(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    body, key = report_body(), "retry-from-another-library"
    first = await intake_api.post("/v1/reports", json=body, headers=keyed(token, key))

    # Tried: the same fields in reverse order, pretty-printed, non-ASCII escaped.
    reordered = json.dumps(dict(reversed(body.items())), indent=4, ensure_ascii=True)
    retry = await intake_api.post(
        "/v1/reports",
        content=reordered.encode(),
        headers={**keyed(token, key), "Content-Type": "application/json"},
    )

    assert retry.status_code == 202 and retry.content == first.content
    assert await department_report_count(sessionmaker, department) == 1


async def test_the_same_key_with_a_different_body_gets_422_naming_the_header(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    body, key = report_body(), "order-7"
    first = await intake_api.post("/v1/reports", json=body, headers=keyed(token, key))
    before = await stored_counts(sessionmaker)

    # Tried: a changed excerpt under the key of the first report.
    changed = report_body(content_excerpt="Something else entirely.")
    response = await intake_api.post("/v1/reports", json=changed, headers=keyed(token, key))

    problem = assert_problem(response, 422)
    assert problem["code"] == "idempotency-key-reused"
    assert [error["field"] for error in problem["errors"]] == ["Idempotency-Key"]
    assert "Idempotency-Key" in problem["detail"]
    assert await stored_counts(sessionmaker) == before
    # The key still stands for the first request, and still answers it.
    again = await intake_api.post("/v1/reports", json=body, headers=keyed(token, key))
    assert again.status_code == 202 and again.content == first.content
    assert await department_report_count(sessionmaker, department) == 1


async def test_another_client_with_the_same_key_is_independent(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first_department, first = await new_portal(sessionmaker)
    second_department, second = await new_portal(sessionmaker)
    body, key = report_body(), "shared-key-1"

    answers = [
        await intake_api.post("/v1/reports", json=body, headers=keyed(token, key))
        for token in (first, second)
    ]

    assert [answer.status_code for answer in answers] == [202, 202]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert "idempotent-replayed" not in answers[1].headers
    assert await department_report_count(sessionmaker, first_department) == 1
    assert await department_report_count(sessionmaker, second_department) == 1


async def test_concurrent_copies_make_one_report_and_get_its_answer_or_409(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    body, key = report_body(), str(uuid.uuid4())

    # Tried: 20 copies of one request sent at once.
    answers = await asyncio.gather(
        *(intake_api.post("/v1/reports", json=body, headers=keyed(token, key)) for _ in range(20))
    )

    accepted = [answer for answer in answers if answer.status_code == 202]
    in_flight = [answer for answer in answers if answer.status_code != 202]
    assert accepted, [answer.text for answer in answers]
    assert {answer.content for answer in accepted} == {accepted[0].content}
    for answer in in_flight:
        problem = assert_problem(answer, 409)
        assert problem["code"] == "idempotency-key-in-use"
        assert int(answer.headers["retry-after"]) >= 1
    assert await department_report_count(sessionmaker, department) == 1
    # Whoever got 409 retries and gets the one answer.
    retry = await intake_api.post("/v1/reports", json=body, headers=keyed(token, key))
    assert retry.status_code == 202 and retry.content == accepted[0].content


async def test_a_copy_sent_while_the_first_is_in_flight_gets_409_with_retry_after(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    key = "held-by-another-request"
    client_id = await client_id_of(sessionmaker, token)
    async with sessionmaker() as in_flight:
        # Another replica has claimed the key and not yet committed.
        await claim_key(
            in_flight,
            schema="intake",
            caller_ref=str(client_id),
            key=key,
            fingerprint="0" * 64,
            request_line="POST /v1/reports",
        )
        response = await intake_api.post(
            "/v1/reports", json=report_body(), headers=keyed(token, key)
        )
        await in_flight.rollback()

    problem = assert_problem(response, 409)
    assert response.headers["retry-after"] == "1"
    assert "Idempotency-Key" in problem["detail"]
    assert await department_report_count(sessionmaker, department) == 0
    # The other request failed and let go of the key: the retry is taken as new.
    retry = await intake_api.post("/v1/reports", json=report_body(), headers=keyed(token, key))
    assert retry.status_code == 202
    assert await department_report_count(sessionmaker, department) == 1


class LoseTheFirstAnswer:
    """The connection drops after the API has committed, before its answer reaches the caller
    (as when the API process dies there, or a proxy times out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.armed = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.armed:
            await self.app(scope, receive, send)
            return
        self.armed = False

        async def into_the_void(message: Message) -> None:
            return None

        await self.app(scope, receive, into_the_void)
        raise ConnectionResetError("the connection dropped before the answer arrived")


async def test_an_answer_lost_after_commit_is_replayed_on_retry(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    body, key = report_body(), str(uuid.uuid4())
    async with running_app() as app:
        lossy = LoseTheFirstAnswer(app)
        transport = httpx.ASGITransport(app=lossy)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            with pytest.raises(ConnectionResetError):
                await api.post("/v1/reports", json=body, headers=keyed(token, key))
            # The report was committed even though the caller never heard of it.
            assert await department_report_count(sessionmaker, department) == 1

            retry = await api.post("/v1/reports", json=body, headers=keyed(token, key))

            assert retry.status_code == 202, retry.text
            assert retry.headers["idempotent-replayed"] == "true"
            assert await department_report_count(sessionmaker, department) == 1
            read = await api.get(retry.headers["location"], headers=bearer(token))
            assert read.status_code == 200 and read.json()["department"] == department


async def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    key = "fix-and-resend"
    before = await stored_counts(sessionmaker)

    # Tried: a rule not in the catalogue, then the same key with the rule corrected.
    wrong = await intake_api.post(
        "/v1/reports", json=report_body(rules_alleged=["NO-SUCH-RULE"]), headers=keyed(token, key)
    )
    assert_problem(wrong, 422)
    assert await stored_counts(sessionmaker) == before
    fixed = await intake_api.post("/v1/reports", json=report_body(), headers=keyed(token, key))
    assert fixed.status_code == 202, fixed.text
    assert await department_report_count(sessionmaker, department) == 1


BAD_KEYS: list[tuple[str, bytes]] = [
    ("an empty key", b""),
    ("256 characters", b"k" * 256),
    ("a non-ASCII letter", "clé".encode()),
    ("a control character", b"key\x7f"),
    ("a tab", b"key\twith-tab"),
]


@pytest.mark.parametrize(("tried", "key"), BAD_KEYS, ids=[tried for tried, _ in BAD_KEYS])
async def test_a_malformed_key_gets_422_naming_the_header_and_writes_nothing(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    tried: str,
    key: bytes,
) -> None:
    _, token = await new_portal(sessionmaker)
    before = await stored_counts(sessionmaker)

    response = await intake_api.post(
        "/v1/reports",
        json=report_body(),
        headers=[(b"Authorization", f"Bearer {token}".encode()), (b"Idempotency-Key", key)],
    )

    problem = assert_problem(response, 422)
    assert problem["code"] == "idempotency-key-invalid", tried
    assert [error["field"] for error in problem["errors"]] == ["Idempotency-Key"], tried
    assert await stored_counts(sessionmaker) == before, tried


async def test_a_key_of_255_printable_characters_is_accepted(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _, token = await new_portal(sessionmaker)
    key = ("k e~y!" * 50)[:255]
    response = await intake_api.post("/v1/reports", json=report_body(), headers=keyed(token, key))
    assert response.status_code == 202, response.text


async def expire_key(sessionmaker: async_sessionmaker[AsyncSession], key: str) -> None:
    """The key's 24 hours are over: move its expiry into the past rather than wait."""
    async with sessionmaker() as session:
        await session.execute(
            text(
                "UPDATE intake.idempotency_key SET expires_at = now() - interval '1 second' "
                "WHERE key = :key"
            ),
            {"key": key},
        )
        await session.commit()


async def test_an_expired_key_is_ignored_and_then_pruned(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department, token = await new_portal(sessionmaker)
    key, live_key = str(uuid.uuid4()), str(uuid.uuid4())
    first = await intake_api.post("/v1/reports", json=report_body(), headers=keyed(token, key))
    await intake_api.post("/v1/reports", json=report_body(), headers=keyed(token, live_key))
    await expire_key(sessionmaker, key)

    # Tried: the expired key with a different body; it is a new request, not a reuse.
    later = await intake_api.post("/v1/reports", json=report_body(), headers=keyed(token, key))
    assert later.status_code == 202, later.text
    assert later.json()["id"] != first.json()["id"]
    assert await department_report_count(sessionmaker, department) == 3

    await expire_key(sessionmaker, key)
    resources = WorkerResources(
        service="intake", settings=IntakeSettings(), sessionmaker=sessionmaker
    )
    assert await prune_idempotency_keys({"resources": resources}) >= 1
    async with sessionmaker() as session:
        remaining = set(
            (
                await session.execute(
                    text("SELECT key FROM intake.idempotency_key WHERE key IN (:a, :b)"),
                    {"a": key, "b": live_key},
                )
            ).scalars()
        )
    assert remaining == {live_key}


async def test_posts_document_the_key_and_its_answers(intake_api: httpx.AsyncClient) -> None:
    operation: dict[str, Any] = (await intake_api.get("/openapi.json")).json()["paths"][
        "/v1/reports"
    ]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert {"409", "422", "429"} <= set(operation["responses"])
    assert "Idempotency-Key" in operation["responses"]["422"]["description"]


async def test_replicas_share_the_stored_answers(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    body, key = report_body(), str(uuid.uuid4())
    async with running_app() as first_replica, running_app() as second_replica:
        async with (
            client_of(first_replica, address="10.0.0.1") as first,
            client_of(second_replica, address="10.0.0.1") as second,
        ):
            answered = await first.post("/v1/reports", json=body, headers=keyed(token, key))
            replayed = await second.post("/v1/reports", json=body, headers=keyed(token, key))
    assert answered.status_code == replayed.status_code == 202
    assert replayed.content == answered.content
    assert await department_report_count(sessionmaker, department) == 1
