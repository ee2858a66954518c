"""appeal.decided from review, through the outbox, the queue and registry's worker: an appeal
outcome is a new ledger record. Set aside, the violation is no longer current and no sanction
can be recorded on it; modified, the outcome is the violation's new current version; upheld,
the violation stays current. Exactly once however often it is delivered; the chain verifies."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unit_of_work, utcnow
from shared.messages import AppealDecided, DeterminationRecorded, Envelope, MessagePayload
from shared.outbox import stage_message
from shared.queue import job_id
from shared.settings import ServiceSettings
from tests.factories import bearer, unique_code
from tests.registry.factories import determination, issue_reader
from tests.registry.sanction_steps import authority, impose, post
from tests.support import deliver_again, pump, run_worker


async def send_from_review(
    sessionmaker: async_sessionmaker[AsyncSession], payload: MessagePayload
) -> Envelope:
    async with unit_of_work(sessionmaker) as session:
        return await stage_message(
            session, payload, producer="review", correlation_id=f"test-{uuid.uuid4().hex[:8]}"
        )


def appeal_decision(violation: DeterminationRecorded, **overrides: Any) -> AppealDecided:
    fields: dict[str, Any] = {
        "case_id": violation.case_id,
        "submission_id": violation.submission_id,
        "outcome": "set_aside",
        "reasons": "The message was forwarded without the employee's knowledge.",
        "appeal_filed_on": violation.effective_on + timedelta(days=5),
        "decided_by": uuid.uuid4(),
        "decided_at": utcnow(),
        "effective_on": utcnow().date(),
    }
    fields.update(overrides)
    return AppealDecided(**fields)


async def recorded_violation(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, **overrides: Any
) -> DeterminationRecorded:
    """A violation recorded through the worker, final long enough ago that its appeal window
    no longer holds sanctions back."""
    payload = determination(
        department=unique_code("DEPT"),
        rules_cited=["CR1964-22", "CR1964-18"],
        effective_on=date.today() - timedelta(days=60),
        **overrides,
    )
    await send_from_review(sessionmaker, payload)
    await pump(sessionmaker, queue)
    return payload


async def violations(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    department: str,
    **params: str,
) -> list[dict[str, Any]]:
    auditor = bearer(await issue_reader(sessionmaker, organisation_code=department))
    response = await registry_api.get("/v1/violations", params=params, headers=auditor)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def records_of_case(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT id, record_kind, appeal_outcome, supersedes_id, violation_id, "
                    "rules_cited, determined_by FROM registry.ledger_record "
                    "WHERE case_id = :case_id ORDER BY sequence"
                ),
                {"case_id": case_id},
            )
        ).mappings()
        return [dict(row) for row in rows]


async def appeal_announcements(
    sessionmaker: async_sessionmaker[AsyncSession], case_id: uuid.UUID
) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT destination FROM registry.outbox_message "
                "WHERE message_type = 'record.created' "
                "AND envelope->'payload'->>'record_kind' = 'appeal_outcome' "
                "AND envelope->'payload'->>'case_id' = :case_id ORDER BY destination"
            ),
            {"case_id": str(case_id)},
        )
        return [destination for (destination,) in rows]


async def chain_status(
    registry_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> str:
    verify = await registry_api.get(
        "/v1/audit/verify", headers=bearer(await issue_reader(sessionmaker))
    )
    assert verify.status_code == 200, verify.text
    status: str = verify.json()["status"]
    return status


async def test_set_aside_leaves_no_current_violation_and_refuses_a_sanction(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    violation = await recorded_violation(sessionmaker, queue)
    [original] = await violations(registry_api, sessionmaker, violation.department)
    decision = appeal_decision(violation, outcome="set_aside")
    await send_from_review(sessionmaker, decision)
    await pump(sessionmaker, queue)

    records = await records_of_case(sessionmaker, violation.case_id)
    assert [record["record_kind"] for record in records] == ["violation", "appeal_outcome"]
    outcome = records[1]
    assert outcome["appeal_outcome"] == "set_aside"
    assert outcome["supersedes_id"] == outcome["violation_id"] == uuid.UUID(original["id"])
    assert outcome["determined_by"] == decision.decided_by

    listed = await violations(registry_api, sessionmaker, violation.department)
    assert [(item["id"], item["status"]) for item in listed] == [(original["id"], "superseded")]
    assert listed[0]["superseded_by"] == str(outcome["id"])
    assert (
        await violations(registry_api, sessionmaker, violation.department, status="current") == []
    )

    headers = await authority(sessionmaker, violation.department)
    refused = await post(registry_api, original["id"], headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "violation-not-current"
    assert await appeal_announcements(sessionmaker, violation.case_id) == ["intake", "review"]
    assert await chain_status(registry_api, sessionmaker) == "intact"


async def test_modified_makes_a_new_current_version_with_the_modified_rules(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    violation = await recorded_violation(sessionmaker, queue)
    [original] = await violations(registry_api, sessionmaker, violation.department)
    await send_from_review(
        sessionmaker,
        appeal_decision(
            violation,
            outcome="modified",
            modified_rules_cited=["CR1964-22"],
            modified_finding="Embarrassing, but no official information was shared.",
        ),
    )
    await pump(sessionmaker, queue)

    listed = await violations(registry_api, sessionmaker, violation.department)
    assert [(item["record_kind"], item["status"]) for item in listed] == [
        ("violation", "superseded"),
        ("appeal_outcome", "current"),
    ]
    modified = listed[1]
    assert modified["supersedes_id"] == original["id"]
    assert modified["rules_cited"] == ["CR1964-22"]
    assert modified["appeal_outcome"] == "modified"
    assert modified["employee_ref"] == original["employee_ref"]
    assert "no official information" in modified["reasons"]
    # The finding restated keeps the day it took effect: the appeal window does not reopen.
    assert modified["effective_on"] == original["effective_on"]

    # Sanctions now go against the modified version, and not against the old one.
    headers = await authority(sessionmaker, violation.department)
    assert (await post(registry_api, original["id"], headers)).status_code == 409
    await impose(registry_api, uuid.UUID(modified["id"]), headers)
    assert await chain_status(registry_api, sessionmaker) == "intact"


async def test_upheld_keeps_the_violation_current_and_links_the_outcome(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    violation = await recorded_violation(sessionmaker, queue)
    [original] = await violations(registry_api, sessionmaker, violation.department)
    await send_from_review(sessionmaker, appeal_decision(violation, outcome="upheld"))
    await pump(sessionmaker, queue)

    records = await records_of_case(sessionmaker, violation.case_id)
    assert [record["appeal_outcome"] for record in records] == [None, "upheld"]
    assert records[1]["supersedes_id"] is None
    assert records[1]["violation_id"] == uuid.UUID(original["id"])
    listed = await violations(registry_api, sessionmaker, violation.department)
    assert [(item["id"], item["status"]) for item in listed] == [(original["id"], "current")]
    await impose(
        registry_api, uuid.UUID(original["id"]), await authority(sessionmaker, violation.department)
    )
    assert await chain_status(registry_api, sessionmaker) == "intact"


async def test_a_redelivered_appeal_decision_appends_once(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    violation = await recorded_violation(sessionmaker, queue)
    decision = appeal_decision(violation)
    envelope = await send_from_review(sessionmaker, decision)
    await pump(sessionmaker, queue)

    # As arq would after the first job's result expired: the same message, a new job id.
    await deliver_again(queue, envelope, to="registry", copies=2)
    assert await run_worker("registry", queue) == 2
    # And the same decision staged again under a new message id (a replayed dead letter).
    await send_from_review(sessionmaker, decision)
    await pump(sessionmaker, queue)

    kinds = [r["record_kind"] for r in await records_of_case(sessionmaker, violation.case_id)]
    assert kinds == ["violation", "appeal_outcome"]
    assert await appeal_announcements(sessionmaker, violation.case_id) == ["intake", "review"]
    assert await chain_status(registry_api, sessionmaker) == "intact"


async def test_a_conflicting_appeal_outcome_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    violation = await recorded_violation(sessionmaker, queue)
    await send_from_review(sessionmaker, appeal_decision(violation, outcome="upheld"))
    await pump(sessionmaker, queue)
    conflicting = await send_from_review(
        sessionmaker, appeal_decision(violation, outcome="set_aside")
    )
    await pump(sessionmaker, queue)

    outcomes = [r["appeal_outcome"] for r in await records_of_case(sessionmaker, violation.case_id)]
    assert outcomes == [None, "upheld"]
    async with sessionmaker() as session:
        dead = (
            await session.execute(
                text("SELECT error FROM registry.dead_letter WHERE job_id = :job_id"),
                {"job_id": job_id(ServiceSettings(), conflicting.message_id, "registry")},
            )
        ).one()
    assert dead.error.startswith("PoisonMessage") and "already has appeal outcome" in dead.error


async def test_an_appeal_on_a_case_with_no_violation_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    cleared = await recorded_violation(
        sessionmaker, queue, finding="cleared", countersigned_by=None
    )
    envelope = await send_from_review(sessionmaker, appeal_decision(cleared))
    await pump(sessionmaker, queue)
    kinds = [r["record_kind"] for r in await records_of_case(sessionmaker, cleared.case_id)]
    assert kinds == ["cleared_finding"]
    async with sessionmaker() as session:
        dead = (
            await session.execute(
                text("SELECT error FROM registry.dead_letter WHERE job_id = :job_id"),
                {"job_id": job_id(ServiceSettings(), envelope.message_id, "registry")},
            )
        ).one()
    assert "no current violation" in dead.error


async def test_statistics_and_the_employee_record_follow_the_appeal_outcome(
    registry_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    modified = await recorded_violation(sessionmaker, queue)
    set_aside = await recorded_violation(sessionmaker, queue)
    await send_from_review(
        sessionmaker,
        appeal_decision(modified, outcome="modified", modified_rules_cited=["CR1964-22"]),
    )
    await send_from_review(sessionmaker, appeal_decision(set_aside, outcome="set_aside"))
    await pump(sessionmaker, queue)
    auditor = bearer(await issue_reader(sessionmaker, role="auditor"))

    async def counted_rules(department: str) -> dict[str, Any]:
        response = await registry_api.get(
            "/v1/statistics", params={"by": "rule", "department": department}, headers=auditor
        )
        assert response.status_code == 200, response.text
        return {group["key"]: group["count"] for group in response.json()["groups"]}

    # A modified finding still counts, as its new version under its new rules (one violation:
    # a small cell); a finding set aside counts no more.
    assert await counted_rules(modified.department) == {"CR1964-22": "<5"}
    assert await counted_rules(set_aside.department) == {}
    appeals = await registry_api.get(
        "/v1/statistics", params={"department": set_aside.department}, headers=auditor
    )
    assert appeals.json()["appeal_outcomes"] == [{"key": "set_aside", "count": "<5"}]

    record = await registry_api.get(
        f"/v1/employees/{modified.employee_ref}/record",
        params={"reason": "Checking the appeal's effect on the record."},
        headers=auditor,
    )
    assert record.status_code == 200, record.text
    versions = record.json()["violations"]
    assert sorted(version["record_kind"] for version in versions) == [
        "appeal_outcome",
        "violation",
    ]
