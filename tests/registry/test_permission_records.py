"""permission.decided from review, through the outbox, the queue and registry's worker: one
ledger record per decision (granted or refused), announced with record.created, however often
it is delivered; renewals supersede what they renew; the chain still verifies."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.chain import content_hash, personal_digest
from services.registry.ledger.entries import PermissionEntry
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import append_records
from services.registry.permissions.tasks import append_permission_decision
from shared.db import unit_of_work
from shared.messages import Envelope
from shared.queue import job_id
from shared.settings import ServiceSettings
from tests.factories import bearer, unique_code
from tests.registry.factories import (
    issue_reader,
    official_account_decision,
    personal_permission_decision,
)
from tests.registry.permission_steps import decide, records_of_case
from tests.support import deliver_again, pump, run_worker

IN_2026 = {"on": "2026-06-01"}


async def announcements_of_case(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[tuple[str, str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT destination, envelope->'payload'->>'record_kind', "
                "envelope->>'correlation_id' FROM registry.outbox_message "
                "WHERE message_type = 'record.created' "
                "AND envelope->'payload'->>'case_id' = :case_id ORDER BY destination"
            ),
            {"case_id": str(case_id)},
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def test_a_granted_official_account_is_recorded_announced_and_listed(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    payload = official_account_decision(department=department, conditions=["Reply within 48h"])
    envelope = await decide(sessionmaker, queue, payload)

    records = await records_of_case(sessionmaker, payload.case_id)
    assert [(r["record_kind"], r["decision"]) for r in records] == [("official_account", "granted")]
    assert await announcements_of_case(sessionmaker, payload.case_id) == [
        ("intake", "official_account", envelope.correlation_id),
        ("review", "official_account", envelope.correlation_id),
    ]
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    response = await registry_api.get("/v1/official-accounts", params=IN_2026, headers=auditor)
    assert response.status_code == 200, response.text
    [account] = response.json()["items"]
    assert account["id"] == str(records[0]["id"])
    assert account["department"] == department
    assert account["platform"] == "facebook"
    assert account["account_handle"] == payload.account_handle
    assert account["purpose"] == payload.purpose
    assert account["account_purpose"] == "policy_feedback"
    assert account["conditions"] == ["Reply within 48h"]
    assert [m["name"] for m in account["moderators"]] == ["Ayesha Khan", "Bilal Ahmed"]
    assert account["moderator_count"] == 2
    assert (account["valid_from"], account["expires_on"]) == ("2026-01-01", "2026-12-31")
    assert account["status"] == "active"


async def test_a_personal_grant_is_on_the_employees_record(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    payload = personal_permission_decision(department=department, employee_ref="EMP-P1")
    await decide(sessionmaker, queue, payload)

    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    listed = (
        await registry_api.get(
            "/v1/permissions", params={**IN_2026, "employee_ref": "EMP-P1"}, headers=auditor
        )
    ).json()["items"]
    assert len(listed) == 1
    assert listed[0]["record_kind"] == "permission"
    assert listed[0]["employee_name"] == "Dr. Hina Raza"
    assert listed[0]["account_handle"] == payload.account_handle
    assert listed[0]["decided_by"] == str(payload.decided_by)
    assert listed[0]["moderators"] is None
    assert listed[0]["status"] == "active"
    # A personal permission is not an official account.
    accounts = await registry_api.get("/v1/official-accounts", params=IN_2026, headers=auditor)
    assert accounts.json()["items"] == []


async def test_a_refusal_is_recorded_and_shows_as_refused(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    personal = personal_permission_decision(
        department=department, employee_ref="EMP-R1", decision="refused"
    )
    account = official_account_decision(department=department, decision="refused")
    await decide(sessionmaker, queue, personal)
    await decide(sessionmaker, queue, account)

    assert [r["decision"] for r in await records_of_case(sessionmaker, personal.case_id)] == [
        "refused"
    ]
    assert [kind for _, kind, _ in await announcements_of_case(sessionmaker, account.case_id)] == [
        "official_account",
        "official_account",
    ]
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    listed = (await registry_api.get("/v1/permissions", params=IN_2026, headers=auditor)).json()[
        "items"
    ]
    assert [(item["record_kind"], item["status"]) for item in listed] == [
        ("permission", "refused"),
        ("official_account", "refused"),
    ]
    employees = (
        await registry_api.get(
            "/v1/permissions", params={"employee_ref": "EMP-R1"}, headers=auditor
        )
    ).json()["items"]
    assert [item["decision"] for item in employees] == ["refused"]
    # A refused account is not an official account; nor does it permit anything.
    accounts = await registry_api.get("/v1/official-accounts", params=IN_2026, headers=auditor)
    assert accounts.json()["items"] == []
    check = await registry_api.get(
        "/v1/permissions/check",
        params={"platform": "facebook", "account_handle": account.account_handle, **IN_2026},
        headers=auditor,
    )
    assert check.json()["permitted"] is False


async def test_the_same_envelope_delivered_again_leaves_one_record(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = official_account_decision(department=unique_code("DEPT"))
    envelope = await decide(sessionmaker, queue, payload)

    # As arq would after the first job's result expired: the same message, a new job id.
    await deliver_again(queue, envelope, to="registry", copies=2)
    assert await run_worker("registry", queue) == 2
    await pump(sessionmaker, queue)

    assert len(await records_of_case(sessionmaker, payload.case_id)) == 1
    assert len(await announcements_of_case(sessionmaker, payload.case_id)) == 2


async def test_the_same_decision_under_another_message_id_leaves_one_record(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = personal_permission_decision(department=unique_code("DEPT"))
    await decide(sessionmaker, queue, payload)
    # review staging the decision twice: the inbox cannot tell, the ledger can.
    await decide(sessionmaker, queue, payload)

    assert len(await records_of_case(sessionmaker, payload.case_id)) == 1
    assert len(await announcements_of_case(sessionmaker, payload.case_id)) == 2


async def test_the_handler_called_twice_in_one_transaction_appends_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    payload = official_account_decision()
    envelope = Envelope.wrap(payload, producer="review", correlation_id="test-direct")
    async with unit_of_work(sessionmaker) as session:
        await append_permission_decision(session, payload, envelope)
        await append_permission_decision(session, payload, envelope)
    assert len(await records_of_case(sessionmaker, payload.case_id)) == 1


async def dead_letter_of(sessionmaker: async_sessionmaker[AsyncSession], envelope: Envelope) -> str:
    async with sessionmaker() as session:
        error: str = (
            await session.execute(
                text("SELECT error FROM registry.dead_letter WHERE job_id = :job_id"),
                {"job_id": job_id(ServiceSettings(), envelope.message_id, "registry")},
            )
        ).scalar_one()
    return error


async def test_a_different_decision_for_a_recorded_case_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    payload = official_account_decision(department=unique_code("DEPT"))
    await decide(sessionmaker, queue, payload)
    conflicting = await decide(
        sessionmaker, queue, payload.model_copy(update={"decision": "refused"})
    )

    records = await records_of_case(sessionmaker, payload.case_id)
    assert [r["decision"] for r in records] == ["granted"]
    error = await dead_letter_of(sessionmaker, conflicting)
    assert error.startswith("PoisonMessage") and "already has" in error


async def test_a_decision_the_ledger_cannot_hold_is_dead_lettered_and_records_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    # Bad input: a period that ends before it begins; a personal permission without applicant.
    backwards = official_account_decision(valid_from=date(2026, 6, 1), expires_on=date(2026, 5, 31))
    nameless = personal_permission_decision(applicant=None)
    for payload in (backwards, nameless):
        envelope = await decide(sessionmaker, queue, payload)
        assert await records_of_case(sessionmaker, payload.case_id) == []
        assert (await dead_letter_of(sessionmaker, envelope)).startswith("PoisonMessage")


async def test_a_granted_renewal_supersedes_and_a_refused_one_only_links(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    first = official_account_decision(department=department)
    await decide(sessionmaker, queue, first)
    [original] = await records_of_case(sessionmaker, first.case_id)
    refused_renewal = official_account_decision(
        department=department,
        account_handle=first.account_handle,
        decision="refused",
        renewal_of=original["id"],
    )
    await decide(sessionmaker, queue, refused_renewal)
    [refusal] = await records_of_case(sessionmaker, refused_renewal.case_id)
    assert (refusal["renewal_of"], refusal["supersedes_id"]) == (original["id"], None)

    renewal = official_account_decision(
        department=department,
        account_handle=first.account_handle,
        valid_from=date(2027, 1, 1),
        expires_on=date(2027, 12, 31),
        renewal_of=original["id"],
    )
    await decide(sessionmaker, queue, renewal)
    [renewed] = await records_of_case(sessionmaker, renewal.case_id)
    assert (renewed["renewal_of"], renewed["supersedes_id"]) == (original["id"], original["id"])

    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    accounts = (
        await registry_api.get(
            "/v1/official-accounts", params={"on": "2027-02-01"}, headers=auditor
        )
    ).json()["items"]
    assert [(a["id"], a["status"], a["renewal_of"]) for a in accounts] == [
        (str(renewed["id"]), "active", str(original["id"]))
    ]
    # Renewed ahead of its expiry: the renewal is the current record, and the account is
    # active while the grant it renews still runs.
    before_renewal_begins = (
        await registry_api.get(
            "/v1/official-accounts", params={"on": "2026-12-01"}, headers=auditor
        )
    ).json()["items"]
    assert [(a["id"], a["status"], a["valid_from"]) for a in before_renewal_begins] == [
        (str(renewed["id"]), "active", "2027-01-01")
    ]
    permissions = (
        await registry_api.get("/v1/permissions", params={"on": "2027-02-01"}, headers=auditor)
    ).json()["items"]
    assert [(p["id"], p["status"], p["superseded_by"]) for p in permissions] == [
        (str(original["id"]), "superseded", str(renewed["id"])),
        (str(refusal["id"]), "refused", None),
        (str(renewed["id"]), "active", None),
    ]
    # The superseded grant still answers for the dates it covered.
    check = (
        await registry_api.get(
            "/v1/permissions/check",
            params={
                "platform": "facebook",
                "account_handle": first.account_handle,
                "on": "2026-03-01",
            },
            headers=auditor,
        )
    ).json()
    assert check["permitted"] is True and check["record"]["id"] == str(original["id"])


async def test_a_renewal_naming_no_permission_it_may_renew_is_recorded_unlinked(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    department = unique_code("DEPT")
    someones = personal_permission_decision(department=department)
    await decide(sessionmaker, queue, someones)
    [held] = await records_of_case(sessionmaker, someones.case_id)
    # Bad links: a record that does not exist; another employee's personal permission.
    for renewal in (
        official_account_decision(department=department, renewal_of=uuid.uuid4()),
        personal_permission_decision(department=department, renewal_of=held["id"]),
    ):
        await decide(sessionmaker, queue, renewal)
        [record] = await records_of_case(sessionmaker, renewal.case_id)
        assert (record["decision"], record["renewal_of"], record["supersedes_id"]) == (
            "granted",
            None,
            None,
        )
    [still_held] = await records_of_case(sessionmaker, someones.case_id)
    assert still_held == held


async def test_the_chain_verifies_with_permission_records(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    await decide(sessionmaker, queue, official_account_decision(conditions=["No politics"]))
    await decide(sessionmaker, queue, personal_permission_decision(decision="refused"))
    auditor = bearer(await issue_reader(sessionmaker))
    verification = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
    assert verification["status"] == "intact"
    assert verification["first_broken"] is None


async def test_the_moderators_are_chained(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    """Changing a moderator's name behind the ledger's back changes the personal digest the
    content hash covers."""
    payload = official_account_decision()
    await decide(sessionmaker, queue, payload)
    [record] = await records_of_case(sessionmaker, payload.case_id)
    async with sessionmaker() as session:
        stored = (
            (
                await session.execute(
                    LedgerRecord.__table__.select().where(LedgerRecord.id == record["id"])
                )
            )
            .mappings()
            .one()
        )
    edited = dict(stored)
    assert content_hash(edited) == stored["content_hash"]
    assert personal_digest(edited) == stored["personal_digest"]
    edited["moderators"] = [{**edited["moderators"][0], "name": "Someone Else"}]
    assert personal_digest(edited) != stored["personal_digest"]


async def test_an_employee_renewing_their_own_permission_supersedes_it(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    department = unique_code("DEPT")
    first = personal_permission_decision(department=department, employee_ref="EMP-RN")
    await decide(sessionmaker, queue, first)
    [held] = await records_of_case(sessionmaker, first.case_id)
    renewal = personal_permission_decision(
        department=department,
        employee_ref="EMP-RN",
        account_handle=first.account_handle,
        valid_from=date(2027, 1, 1),
        expires_on=date(2027, 12, 31),
        renewal_of=held["id"],
    )
    await decide(sessionmaker, queue, renewal)
    [renewed] = await records_of_case(sessionmaker, renewal.case_id)
    assert renewed["supersedes_id"] == held["id"]

    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    listed = (
        await registry_api.get(
            "/v1/permissions",
            params={"employee_ref": "EMP-RN", "on": "2026-12-31", "expiring_within_days": "30"},
            headers=auditor,
        )
    ).json()["items"]
    # Renewed, so no longer expiring soon.
    assert listed == []


async def test_the_database_refuses_an_official_account_without_moderators(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Should anything bypass the service's own checks, the database itself refuses an
    official account that names no moderators: missing (SQL NULL, as the model now writes
    None), or JSON null (as it used to)."""
    department = unique_code("DEPT")
    entry = PermissionEntry(
        record_kind="official_account",
        case_id=uuid.uuid4(),
        submission_id=uuid.uuid4(),
        department=department,
        decision="granted",
        conditions=[],
        reasons="A page for citizens' feedback.",
        platform="facebook",
        account_handle="@official",
        account_url=None,
        purpose="Service delivery.",
        account_purpose="service_delivery",
        moderators=None,
        employee_ref=None,
        employee_name=None,
        valid_from=date(2026, 11, 20),
        expires_on=None,
        renewal_of=None,
        supersedes_id=None,
        determined_by=uuid.uuid4(),
        decided_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )
    async with sessionmaker() as session:
        with pytest.raises(DBAPIError, match="official_account_names_moderators"):
            await append_records(session, entries=[entry])
        await session.rollback()
    for stored in ("null",):
        async with sessionmaker() as session:
            # A valid account appended, then a copy of it inserted directly with `stored`.
            (record,) = await append_records(
                session, entries=[replace(entry, moderators=[{"name": "Ayesha Khan"}])]
            )
            columns = [column.name for column in LedgerRecord.__table__.columns]
            changed = {
                "id": "gen_random_uuid()",
                "case_id": "gen_random_uuid()",
                "sequence": "sequence + 1",
                "moderators": f"'{stored}'::jsonb",
            }
            with pytest.raises(DBAPIError, match="official_account_names_moderators"):
                await session.execute(
                    text(
                        f"INSERT INTO registry.ledger_record ({', '.join(columns)}) SELECT "
                        f"{', '.join(changed.get(name, name) for name in columns)} "
                        "FROM registry.ledger_record WHERE id = :id"
                    ),
                    {"id": record.id},
                )
            await session.rollback()
    async with sessionmaker() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM registry.ledger_record WHERE department = :d"),
            {"d": department},
        )
    assert count == 0
