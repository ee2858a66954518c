"""Small factories for registry tests: reader tokens, determinations, ledger records,
sanction orders and permission decisions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import RecordEntry, append_record
from services.registry.readers.models import ReaderRole
from services.registry.readers.service import issue_reader_credential
from shared.db import unit_of_work
from shared.messages import (
    AccountModerator,
    DeterminationRecorded,
    PermissionApplicant,
    PermissionDecided,
)


async def issue_reader(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    role: ReaderRole = "auditor",
    organisation_code: str | None = None,
) -> str:
    async with unit_of_work(sessionmaker) as session:
        _, issued = await issue_reader_credential(
            session,
            label=f"test {role} {organisation_code or 'all'}",
            role=role,
            organisation_code=organisation_code,
        )
    return issued.token


def determination(**overrides: Any) -> DeterminationRecorded:
    fields: dict[str, Any] = {
        "case_id": uuid.uuid4(),
        "submission_id": uuid.uuid4(),
        "department": "HEALTH",
        "employee_ref": f"EMP-{uuid.uuid4().hex[:6]}",
        "employee_name": "Kamran Yousaf",
        "finding": "violation",
        "rules_cited": ["CR1964-22"],
        "reasons": "The post embarrasses the government.",
        "platform": "facebook",
        "determined_by": uuid.uuid4(),
        "countersigned_by": uuid.uuid4(),
        "effective_on": date(2026, 11, 20),
        "reported_at": datetime(2026, 11, 1, 5, 0, 0, 123456, tzinfo=UTC),
    }
    fields.update(overrides)
    return DeterminationRecorded(**fields)


def record_entry(**overrides: Any) -> RecordEntry:
    fields: dict[str, Any] = {
        "record_kind": "violation",
        "case_id": uuid.uuid4(),
        "submission_id": uuid.uuid4(),
        "department": "HEALTH",
        "employee_ref": f"EMP-{uuid.uuid4().hex[:6]}",
        "employee_name": "Sana Malik",
        "rules_cited": ["CR1964-18"],
        "platform": "whatsapp",
        "reasons": "Shared an internal circular in a public group.",
        "determined_by": uuid.uuid4(),
        "countersigned_by": uuid.uuid4(),
        "effective_on": date(2026, 11, 21),
        "reported_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    }
    fields.update(overrides)
    return RecordEntry(**fields)


async def append_entry(
    sessionmaker: async_sessionmaker[AsyncSession], **overrides: Any
) -> LedgerRecord:
    async with unit_of_work(sessionmaker) as session:
        return await append_record(session, entry=record_entry(**overrides))


def days_ago(days: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days)


async def append_settled_violation(
    sessionmaker: async_sessionmaker[AsyncSession], *, department: str, **overrides: Any
) -> LedgerRecord:
    """A violation that took effect 60 days ago: its 30-day appeal window has closed."""
    return await append_entry(
        sessionmaker, department=department, effective_on=days_ago(60), **overrides
    )


def sanction_order(event: str = "imposed", **overrides: Any) -> dict[str, Any]:
    """A sanction event's body, by default a censure imposed 10 days ago under a new order."""
    body: dict[str, Any] = {
        "event": event,
        "order_reference": f"SO(D)/{uuid.uuid4().hex[:8]}/2026",
        "order_date": days_ago(10).isoformat(),
        "reasons": "The authority has considered the finding and the employee's reply.",
    }
    if event in {"imposed", "varied"}:
        body["penalty_code"] = "ED2020-CENSURE"
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def official_account_decision(**overrides: Any) -> PermissionDecided:
    """A granted official account for HEALTH on facebook, valid in 2026, with two moderators."""
    fields: dict[str, Any] = {
        "case_id": uuid.uuid4(),
        "submission_id": uuid.uuid4(),
        "kind": "official_account",
        "department": "HEALTH",
        "decision": "granted",
        "reasons": "A page for citizens' feedback on the vaccination campaign.",
        "platform": "facebook",
        "account_handle": f"health.{uuid.uuid4().hex[:6]}",
        "account_url": "https://facebook.example/health",
        "purpose": "Answer citizens' questions on vaccination.",
        "account_purpose": "policy_feedback",
        "moderators": [
            AccountModerator(employee_ref="EMP-M1", name="Ayesha Khan", designation="PRO"),
            AccountModerator(employee_ref="EMP-M2", name="Bilal Ahmed", designation="IT officer"),
        ],
        "valid_from": date(2026, 1, 1),
        "expires_on": date(2026, 12, 31),
        "decided_by": uuid.uuid4(),
        "decided_at": datetime(2025, 12, 20, 9, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    return PermissionDecided(**fields)


def personal_permission_decision(**overrides: Any) -> PermissionDecided:
    """An employee's personal permission for one X account, valid in 2026."""
    employee_ref = overrides.pop("employee_ref", f"EMP-{uuid.uuid4().hex[:6]}")
    fields: dict[str, Any] = {
        "kind": "personal",
        "platform": "x",
        "account_handle": f"@dr_{uuid.uuid4().hex[:6]}",
        "account_url": None,
        "purpose": "Professional updates for colleagues in public health.",
        "account_purpose": None,
        "moderators": [],
        "applicant": PermissionApplicant(
            employee_ref=employee_ref,
            name="Dr. Hina Raza",
            designation="Medical officer",
            office="DHO Peshawar",
        ),
    }
    fields.update(overrides)
    return official_account_decision(**fields)
