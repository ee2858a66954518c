"""PUT/GET/DELETE /v1/webhook and GET /v1/webhook/deliveries over HTTP, and the delivery job
sending real requests to a real receiver on 127.0.0.1: unsafe targets refused at registration and
again at delivery, signatures a portal can verify, retries, redirects not followed, the 24-hour
window, and one send when two runs overlap."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.settings import IntakeSettings
from services.intake.webhooks.delivery import deliver_due_webhooks
from services.intake.webhooks.signing import signature_matches
from services.intake.webhooks.targets import resolve
from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.intake.receiver import Answer, Receiver, local_certificates, receiving
from tests.intake.support import assert_problem, intake_client
from tests.support import count_rows, pump

pytestmark = pytest.mark.usefixtures("catalogue")

# What a local development stack runs with: http and loopback targets allowed, retries at once.
LOCAL = IntakeSettings(webhook_allow_private_targets=True, webhook_retry_base_seconds=0)


async def webhook_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    return (
        await count_rows(sessionmaker, "intake.webhook"),
        await count_rows(sessionmaker, "intake.webhook_delivery"),
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://portal.example/hook", "plain http"),
        ("file:///etc/passwd", "file scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "gopher scheme"),
        ("ftp://portal.example/hook", "ftp scheme"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata (link-local)"),
        ("https://10.0.0.1/hook", "private address"),
        ("https://192.168.1.10/hook", "private address"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "IPv6 loopback"),
        ("https://[fd00::1]/hook", "IPv6 unique local"),
        ("https://[fe80::1]/hook", "IPv6 link-local"),
        ("https://[::ffff:127.0.0.1]/hook", "IPv4-mapped loopback"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://2130706433/hook", "loopback written as a number"),
        ("https://localhost/hook", "a name resolving to loopback"),
        ("https://user:secret@1.1.1.1/hook", "credentials in the URL"),
        ("not a url", "no scheme or host"),
        ("https:///hook", "no host"),
    ],
)
async def test_unsafe_targets_are_refused_naming_url_and_nothing_is_stored(
    intake_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    url: str,
    why: str,
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    before = await webhook_counts(sessionmaker)

    response = await intake_api.put("/v1/webhook", json={"url": url}, headers=bearer(token))

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["url"], why
    assert await webhook_counts(sessionmaker) == before, why
    assert_problem(await intake_api.get("/v1/webhook", headers=bearer(token)), 404)


async def test_register_read_replace_and_remove_a_webhook(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    department = unique_code("DEPT")
    token = await create_client(sessionmaker, organisation_code=department)
    url = "https://1.1.1.1/conduct-hook"

    first = await intake_api.put("/v1/webhook", json={"url": url}, headers=bearer(token))

    assert first.status_code == 200, first.text
    registered = first.json()
    assert registered["url"] == url and registered["department"] == department
    secret = registered["signing_secret"]
    assert secret.startswith("whsec_")
    read = await intake_api.get("/v1/webhook", headers=bearer(token))
    assert read.status_code == 200
    assert read.json()["url"] == url and "signing_secret" not in read.json()
    async with sessionmaker() as session:
        sealed = (
            await session.execute(
                text("SELECT secret_sealed FROM intake.webhook WHERE id = :id"),
                {"id": registered["id"]},
            )
        ).scalar_one()
    assert secret not in sealed  # kept encrypted, not as sent

    again = await intake_api.put("/v1/webhook", json={"url": url}, headers=bearer(token))
    assert again.json()["id"] == registered["id"]
    assert again.json()["signing_secret"] != secret

    assert (await intake_api.delete("/v1/webhook", headers=bearer(token))).status_code == 204
    assert_problem(await intake_api.get("/v1/webhook", headers=bearer(token)), 404)
    assert_problem(await intake_api.delete("/v1/webhook", headers=bearer(token)), 404)


async def test_bad_requests_and_wrong_callers_change_nothing(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
    institution = await create_client(
        sessionmaker,
        organisation_code=unique_code("MTI"),
        organisation_kind="institution",
        scopes=("status:read",),
    )
    writer_only = await create_client(
        sessionmaker, organisation_code=unique_code("DEPT"), scopes=("reports:write",)
    )
    good = {"url": "https://1.1.1.1/hook"}
    before = await webhook_counts(sessionmaker)

    # An unknown field (trying to set the secret), no url, a url too long, no credential,
    # an institution's credential, and a credential without status:read.
    extra = await intake_api.put(
        "/v1/webhook", json={**good, "signing_secret": "mine"}, headers=bearer(token)
    )
    assert "signing_secret" in {e["field"] for e in assert_problem(extra, 422)["errors"]}
    assert_problem(await intake_api.put("/v1/webhook", json={}, headers=bearer(token)), 422)
    too_long = {"url": "https://1.1.1.1/" + "a" * 2100}
    assert_problem(await intake_api.put("/v1/webhook", json=too_long, headers=bearer(token)), 422)
    assert_problem(await intake_api.put("/v1/webhook", json=good), 401)
    assert_problem(await intake_api.put("/v1/webhook", json=good, headers=bearer(institution)), 403)
    assert_problem(await intake_api.put("/v1/webhook", json=good, headers=bearer(writer_only)), 403)
    bad_state = await intake_api.get(
        "/v1/webhook/deliveries", params={"state": "lost"}, headers=bearer(token)
    )
    assert_problem(bad_state, 422)

    assert await webhook_counts(sessionmaker) == before


@dataclass(frozen=True)
class Portal:
    department: str
    token: str
    secret: str


@asynccontextmanager
async def portal_with_webhook(
    sessionmaker: async_sessionmaker[AsyncSession], url: str
) -> AsyncIterator[tuple[Portal, httpx.AsyncClient]]:
    """A portal whose webhook points at a local receiver (allowed by the local setting); the
    webhook is removed afterwards, so no other test's delivery run reaches for it."""
    department = unique_code("DEPT")
    token = await create_client(sessionmaker, organisation_code=department)
    async with intake_client(webhook_allow_private_targets=True) as api:
        registered = await api.put("/v1/webhook", json={"url": url}, headers=bearer(token))
        assert registered.status_code == 200, registered.text
        try:
            yield Portal(department, token, registered.json()["signing_secret"]), api
        finally:
            await api.delete("/v1/webhook", headers=bearer(token))


async def report_assigned(
    api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    portal: Portal,
) -> str:
    """Submit a report and let review assign it: intake records "assigned" from review's event."""
    await create_unit_with_members(sessionmaker, jurisdiction=[portal.department])
    response = await api.post("/v1/reports", json=report_body(), headers=bearer(portal.token))
    assert response.status_code == 202, response.text
    await pump(sessionmaker, queue)
    report_id: str = response.json()["id"]
    return report_id


async def deliveries(api: httpx.AsyncClient, portal: Portal, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/v1/webhook/deliveries", params=params, headers=bearer(portal.token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_status_change_reaches_the_receiver_signed_and_is_shown_delivered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with receiving(Answer(200)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)
            [pending] = await deliveries(api, portal, submission_id=report_id)
            assert pending["state"] == "pending" and pending["attempts"] == 0

            await deliver_due_webhooks(sessionmaker, settings=LOCAL)

            [request] = receiver.received
            assert request.path == "/hook"
            assert signature_matches(
                portal.secret, header=request.headers["Conduct-Signature"], body=request.body
            )
            assert not signature_matches(
                portal.secret, header=request.headers["Conduct-Signature"], body=b"{}"
            )
            assert request.headers["Conduct-Delivery-Id"] == pending["id"]
            assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
            payload = json.loads(request.body)
            # Who reviews the submission is never sent: only these four fields.
            assert set(payload) == {"submission_id", "kind", "status", "occurred_at"}
            assert payload["submission_id"] == report_id
            assert (payload["kind"], payload["status"]) == ("report", "assigned")
            [delivered] = await deliveries(api, portal, submission_id=report_id, state="delivered")
            assert delivered["attempts"] == 1 and delivered["last_response_status"] == 200
            assert await deliveries(api, portal, state="failed") == []
            history = await api.get(f"/v1/reports/{report_id}", headers=bearer(portal.token))
            statuses = [event["status"] for event in history.json()["status_history"]]
            assert statuses == ["received", "assigned"]

            # Another portal sees none of these deliveries.
            stranger = await create_client(sessionmaker, organisation_code=unique_code("DEPT"))
            others = await api.get("/v1/webhook/deliveries", headers=bearer(stranger))
            assert others.json()["items"] == []


async def test_a_receiver_that_fails_once_gets_a_retry_and_ends_delivered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with receiving(Answer(500), Answer(200)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)

            await deliver_due_webhooks(sessionmaker, settings=LOCAL)
            [retrying] = await deliveries(api, portal, submission_id=report_id)
            assert retrying["state"] == "pending" and retrying["attempts"] == 1
            assert retrying["last_response_status"] == 500
            await deliver_due_webhooks(sessionmaker, settings=LOCAL)

            [delivered] = await deliveries(api, portal, submission_id=report_id)
            assert delivered["state"] == "delivered" and delivered["attempts"] == 2
            ids = {request.headers["Conduct-Delivery-Id"] for request in receiver.received}
            assert len(receiver.received) == 2 and ids == {delivered["id"]}


async def test_a_redirect_is_not_followed(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with (
        receiving(Answer(200)) as internal,
        receiving(Answer(302, headers={"Location": internal.url("/internal")})) as receiver,
    ):
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)

            await deliver_due_webhooks(sessionmaker, settings=LOCAL)

            assert len(receiver.received) == 1
            assert internal.received == [] and internal.connections == 0
            [delivery] = await deliveries(api, portal, submission_id=report_id)
            assert delivery["state"] == "pending" and delivery["last_response_status"] == 302
            assert "redirect" in delivery["last_error"].lower()


async def test_a_delivery_still_failing_24_hours_after_its_first_attempt_ends_failed(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with receiving(Answer(503)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)
            await deliver_due_webhooks(sessionmaker, settings=LOCAL)
            [delivery] = await deliveries(api, portal, submission_id=report_id)
            assert delivery["state"] == "pending"
            # A day passes: the first attempt moves 25 hours back, the retry is due now.
            async with sessionmaker() as session, session.begin():
                await session.execute(
                    text(
                        "UPDATE intake.webhook_delivery SET first_attempted_at = "
                        "now() - interval '25 hours', next_attempt_at = now() WHERE id = :id"
                    ),
                    {"id": uuid.UUID(delivery["id"])},
                )

            await deliver_due_webhooks(sessionmaker, settings=LOCAL)

            [failed] = await deliveries(api, portal, submission_id=report_id, state="failed")
            assert failed["attempts"] == 2 and failed["last_response_status"] == 503
            assert len(receiver.received) == 2
            await deliver_due_webhooks(sessionmaker, settings=LOCAL)
            assert len(receiver.received) == 2  # a failed delivery is never tried again


async def test_two_overlapping_delivery_runs_send_once(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with receiving(Answer(200, delay_seconds=0.5)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)

            await asyncio.gather(
                deliver_due_webhooks(sessionmaker, settings=LOCAL),
                deliver_due_webhooks(sessionmaker, settings=LOCAL),
            )

            assert len(receiver.received) == 1
            [delivered] = await deliveries(api, portal, submission_id=report_id)
            assert delivered["state"] == "delivered" and delivered["attempts"] == 1


async def test_a_private_target_is_refused_at_delivery_time_without_a_connection(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    """Registered while private targets were allowed; delivered where they are not (as when a
    public name starts resolving to a private address): refused, and no connection is made."""
    with receiving(Answer(200)) as receiver:
        https_url = f"https://127.0.0.1:{receiver.port}/hook"
        async with portal_with_webhook(sessionmaker, https_url) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)

            production_like = IntakeSettings(webhook_retry_base_seconds=0)
            await deliver_due_webhooks(sessionmaker, settings=production_like)

            assert receiver.received == [] and receiver.connections == 0
            [refused] = await deliveries(api, portal, submission_id=report_id)
            assert refused["state"] == "pending" and refused["attempts"] == 1
            assert refused["last_response_status"] is None
            assert "loopback" in refused["last_error"]


async def test_removing_the_webhook_fails_what_is_still_pending(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with receiving(Answer(200)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)
            assert (
                await api.delete("/v1/webhook", headers=bearer(portal.token))
            ).status_code == 204

            await deliver_due_webhooks(sessionmaker, settings=LOCAL)

            assert receiver.received == []
            [failed] = await deliveries(api, portal, submission_id=report_id)
            assert failed["state"] == "failed" and failed["attempts"] == 0


def test_receiver_is_a_real_server() -> None:
    # The receiver the tests rely on answers over a real socket.
    with receiving(Answer(204)) as receiver:
        response = httpx.post(receiver.url(), content=b"x")
        assert response.status_code == 204
        assert isinstance(receiver, Receiver) and receiver.received[0].body == b"x"


async def test_https_goes_to_the_checked_address_and_verifies_the_certificate_for_the_name(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, tmp_path: Path
) -> None:
    """The URL names a host; the delivery connects to the address that was checked, yet the
    certificate (issued for the name only) is verified against the name, sent as SNI."""
    [address] = (await resolve("localhost", 443))[:1]
    certificates = local_certificates(tmp_path, name="localhost")
    with receiving(Answer(200), host=str(address), tls=certificates.server) as receiver:
        url = receiver.url(host="localhost")
        async with portal_with_webhook(sessionmaker, url) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)

            # Without trusting the test CA, the certificate is refused and nothing is delivered.
            await deliver_due_webhooks(sessionmaker, settings=LOCAL)
            [unverified] = await deliveries(api, portal, submission_id=report_id)
            assert unverified["state"] == "pending" and receiver.received == []
            assert "ConnectError" in unverified["last_error"]

            await deliver_due_webhooks(
                sessionmaker, settings=LOCAL, trusted_certificates=certificates.client
            )

            [request] = receiver.received
            assert request.headers["Host"] == f"localhost:{receiver.port}"
            assert signature_matches(
                portal.secret, header=request.headers["Conduct-Signature"], body=request.body
            )
            [delivered] = await deliveries(api, portal, submission_id=report_id)
            assert delivered["state"] == "delivered" and delivered["attempts"] == 2


async def test_a_receiver_slower_than_the_timeout_gets_a_retry(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    with receiving(Answer(200, delay_seconds=1.5), Answer(200)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)
            impatient = IntakeSettings(
                webhook_allow_private_targets=True,
                webhook_retry_base_seconds=0,
                webhook_read_timeout_seconds=0.3,
            )

            await deliver_due_webhooks(sessionmaker, settings=impatient)

            [slow] = await deliveries(api, portal, submission_id=report_id)
            assert slow["state"] == "pending" and slow["attempts"] == 1
            assert "Timeout" in slow["last_error"] and slow["last_response_status"] is None
            await deliver_due_webhooks(sessionmaker, settings=impatient)
            [delivered] = await deliveries(api, portal, submission_id=report_id)
            assert delivered["state"] == "delivered" and delivered["attempts"] == 2


async def test_the_intake_worker_runs_the_delivery_job_every_five_seconds(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from services.intake.webhooks.delivery import deliver_webhooks
    from services.intake.worker import WorkerSettings
    from shared.consumer import WorkerResources

    [job] = [job for job in WorkerSettings.cron_jobs if job.coroutine is deliver_webhooks]
    assert job.second == set(range(0, 60, 5))
    resources = WorkerResources(
        service="intake", settings=IntakeSettings(), sessionmaker=sessionmaker
    )
    # Other tests remove their webhooks, so nothing of theirs is left due.
    assert await deliver_webhooks({"resources": resources}) == 0


async def test_a_secret_sealed_under_another_key_is_not_sent_and_the_delivery_waits(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    """The operator changed INTAKE_WEBHOOK_SECRET_KEY: nothing unsigned goes out, and the run
    goes on with the rest."""
    with receiving(Answer(200)) as receiver:
        async with portal_with_webhook(sessionmaker, receiver.url()) as (portal, api):
            report_id = await report_assigned(api, sessionmaker, queue, portal)
            rekeyed = IntakeSettings(
                webhook_allow_private_targets=True,
                webhook_retry_base_seconds=0,
                webhook_secret_key="a different key",
            )

            await deliver_due_webhooks(sessionmaker, settings=rekeyed)

            assert receiver.received == []
            [waiting] = await deliveries(api, portal, submission_id=report_id)
            assert waiting["state"] == "pending" and waiting["attempts"] == 1
            assert "secret" in waiting["last_error"]
            await deliver_due_webhooks(sessionmaker, settings=LOCAL)
            assert len(receiver.received) == 1
