"""Client credentials over HTTP: revocation bites on the very next request, an expired
credential is refused, and a rotation keeps both secrets working for its overlap and only the
new one after it, with the client's idempotency keys and rate carried over."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.clients.errors import ClientCredentialNotFound, CredentialNotRotatable
from services.intake.clients.service import revoke_client_credential, rotate_client_credential
from shared.db import unit_of_work
from tests.factories import bearer, create_client, report_body, unique_code
from tests.intake.support import assert_problem, department_report_count, intake_client

pytestmark = pytest.mark.usefixtures("catalogue")


def key_id_of(token: str) -> str:
    return token.split(".", 1)[0]


async def revoke(sessionmaker: async_sessionmaker[AsyncSession], token: str) -> None:
    async with unit_of_work(sessionmaker) as session:
        await revoke_client_credential(session, key_id=key_id_of(token))


async def rotate(
    sessionmaker: async_sessionmaker[AsyncSession], token: str, *, overlap: timedelta
) -> str:
    async with unit_of_work(sessionmaker) as session:
        _, issued = await rotate_client_credential(
            session, key_id=key_id_of(token), overlap=overlap
        )
    return issued.token


async def end_overlap(sessionmaker: async_sessionmaker[AsyncSession], token: str) -> None:
    """The overlap is over: move the old credential's expiry into the past rather than wait."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "UPDATE intake.client_credential SET expires_at = now() - interval '1 second' "
                "WHERE key_id = :key_id"
            ),
            {"key_id": key_id_of(token)},
        )


async def new_portal(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    department = unique_code("DEPT")
    return department, await create_client(sessionmaker, organisation_code=department)


def assert_refused(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_revoked_credential_fails_on_its_very_next_request(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    async with intake_client() as api:
        accepted = await api.post("/v1/reports", json=report_body(), headers=bearer(token))
        assert accepted.status_code == 202

        await revoke(sessionmaker, token)

        # Tried: the revoked credential on both endpoints, straight after the revocation.
        assert_refused(await api.post("/v1/reports", json=report_body(), headers=bearer(token)))
        assert_refused(await api.get(accepted.headers["location"], headers=bearer(token)))
    assert await department_report_count(sessionmaker, department) == 1


async def test_an_expired_credential_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, token = await new_portal(sessionmaker)
    await end_overlap(sessionmaker, token)  # issued with an expiry that has now passed
    async with intake_client() as api:
        # Tried: a credential one second past its expiry.
        assert_refused(await api.post("/v1/reports", json=report_body(), headers=bearer(token)))
    assert await department_report_count(sessionmaker, department) == 0


async def test_during_the_overlap_both_secrets_work_and_after_it_only_the_new_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, old = await new_portal(sessionmaker)
    new = await rotate(sessionmaker, old, overlap=timedelta(hours=1))
    assert key_id_of(new) != key_id_of(old)
    async with intake_client() as api:
        during = [
            await api.post("/v1/reports", json=report_body(), headers=bearer(token))
            for token in (old, new)
        ]
        # Same department, same scopes: the new secret reads what the old one reported.
        read = await api.get(during[0].headers["location"], headers=bearer(new))

        await end_overlap(sessionmaker, old)
        # Tried: the old secret once its overlap has ended.
        after_old = await api.post("/v1/reports", json=report_body(), headers=bearer(old))
        after_new = await api.post("/v1/reports", json=report_body(), headers=bearer(new))

    assert [response.status_code for response in during] == [202, 202]
    assert read.status_code == 200 and read.json()["department"] == department
    assert_refused(after_old)
    assert after_new.status_code == 202
    assert await department_report_count(sessionmaker, department) == 3


async def test_a_rotation_without_overlap_cuts_over_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, old = await new_portal(sessionmaker)
    new = await rotate(sessionmaker, old, overlap=timedelta(0))
    async with intake_client() as api:
        assert_refused(await api.post("/v1/reports", json=report_body(), headers=bearer(old)))
        response = await api.post("/v1/reports", json=report_body(), headers=bearer(new))
        assert response.status_code == 202


async def test_revoking_one_secret_of_a_rotating_client_leaves_the_other(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, old = await new_portal(sessionmaker)
    new = await rotate(sessionmaker, old, overlap=timedelta(hours=1))
    # The old secret leaked during the switch-over.
    await revoke(sessionmaker, old)
    async with intake_client() as api:
        assert_refused(await api.post("/v1/reports", json=report_body(), headers=bearer(old)))
        response = await api.post("/v1/reports", json=report_body(), headers=bearer(new))
        assert response.status_code == 202


async def test_a_retry_sent_with_the_new_secret_replays_the_answer_to_the_old(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department, old = await new_portal(sessionmaker)
    body, key = report_body(), "sent-before-the-rotation"
    async with intake_client() as api:
        first = await api.post(
            "/v1/reports", json=body, headers={**bearer(old), "Idempotency-Key": key}
        )
        new = await rotate(sessionmaker, old, overlap=timedelta(minutes=5))
        retry = await api.post(
            "/v1/reports", json=body, headers={**bearer(new), "Idempotency-Key": key}
        )
    assert first.status_code == retry.status_code == 202
    assert retry.content == first.content
    assert await department_report_count(sessionmaker, department) == 1


async def test_a_rotating_client_has_one_rate_not_two(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, old = await new_portal(sessionmaker)
    new = await rotate(sessionmaker, old, overlap=timedelta(hours=1))
    async with intake_client(rate_limit_per_minute=2) as api:
        # Tried: spending the budget with one secret, then going on with the other.
        answers = [
            await api.post("/v1/reports", json=report_body(), headers=bearer(token))
            for token in (old, old, new)
        ]
    assert [answer.status_code for answer in answers] == [202, 202, 429]


async def test_a_revoked_or_expired_credential_cannot_be_rotated_back_to_life(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, revoked = await new_portal(sessionmaker)
    await revoke(sessionmaker, revoked)
    _, expired = await new_portal(sessionmaker)
    await end_overlap(sessionmaker, expired)
    for token in (revoked, expired):
        with pytest.raises(CredentialNotRotatable):
            await rotate(sessionmaker, token, overlap=timedelta(hours=1))
    with pytest.raises(ClientCredentialNotFound):
        await rotate(sessionmaker, "ck_0000000000000000.x", overlap=timedelta(hours=1))
    _, live = await new_portal(sessionmaker)
    for overlap in (timedelta(seconds=-1), timedelta(days=31)):
        with pytest.raises(ValueError):
            await rotate(sessionmaker, live, overlap=overlap)


async def test_revoking_twice_keeps_the_first_revocation(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, token = await new_portal(sessionmaker)
    async with unit_of_work(sessionmaker) as session:
        first = await revoke_client_credential(session, key_id=key_id_of(token))
    async with unit_of_work(sessionmaker) as session:
        second = await revoke_client_credential(session, key_id=key_id_of(token))
    assert first.revoked_at is not None and second.revoked_at == first.revoked_at
    with pytest.raises(ClientCredentialNotFound):
        async with unit_of_work(sessionmaker) as session:
            await revoke_client_credential(session, key_id="ck_0000000000000000")
