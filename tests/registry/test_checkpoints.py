"""Signed checkpoints: the head is signed, the signature verifies with the published key, and
a ledger truncated or rewritten behind the latest checkpoint is caught even when its hashes
were all recomputed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.checkpoints.service import take_checkpoint
from services.registry.checkpoints.signing import (
    CheckpointStatement,
    development_key,
    load_signing_key,
    public_key_text,
    sign_statement,
    signature_holds,
)
from services.registry.checkpoints.tasks import checkpoint_schedule, sign_ledger_checkpoint
from services.registry.settings import RegistrySettings
from shared.consumer import WorkerResources
from shared.db import unit_of_work, utcnow
from tests.factories import bearer
from tests.registry.factories import issue_reader, record_entry

pytestmark = pytest.mark.usefixtures("catalogue")


def test_a_signature_verifies_only_for_the_statement_signed() -> None:
    key = development_key()
    statement = CheckpointStatement(
        record_count=3, head_sequence=3, head_hash="a" * 64, signed_at=utcnow()
    )
    signature = sign_statement(statement, key=key)
    public = public_key_text(key)
    assert signature_holds(statement, signature=signature, public_key=public)
    for forged in (replace(statement, record_count=2), replace(statement, head_hash="b" * 64)):
        assert not signature_holds(forged, signature=signature, public_key=public)
    other_key = load_signing_key("A" * 43 + "=")
    assert not signature_holds(
        statement, signature=signature, public_key=public_key_text(other_key)
    )


def test_a_malformed_signing_key_is_refused() -> None:
    with pytest.raises(ValueError):
        load_signing_key("c2hvcnQ=")  # 5 bytes, not 32


def test_a_production_worker_refuses_to_start_without_a_signing_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    production = RegistrySettings.model_validate({"CONDUCT_ENVIRONMENT": "production"})
    monkeypatch.setattr("services.registry.checkpoints.tasks.get_settings", lambda: production)
    with pytest.raises(ValueError, match="CHECKPOINT_SIGNING_KEY"):
        checkpoint_schedule()
    # The API never signs: it starts without the private key.
    assert production.checkpoint_signing_key is None


async def append_some(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> None:
    from services.registry.ledger.service import append_record

    async with unit_of_work(sessionmaker) as session:
        for _ in range(count):
            await append_record(session, entry=record_entry())


async def test_the_cron_job_signs_the_head_once_and_publishes_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    registry_api: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await append_some(sessionmaker, 2)
    published = tmp_path / "checkpoints.jsonl"
    settings = RegistrySettings.model_validate({"checkpoint_file": str(published)})
    monkeypatch.setattr("services.registry.checkpoints.tasks.get_settings", lambda: settings)
    ctx = {
        "resources": WorkerResources(
            service="registry", settings=settings, sessionmaker=sessionmaker
        )
    }

    first = await sign_ledger_checkpoint(ctx)
    again = await sign_ledger_checkpoint(ctx)

    assert first.startswith("checkpoint at") and again == "nothing new to sign"
    lines = [json.loads(line) for line in published.read_text().splitlines()]
    assert len(lines) == 1
    auditor = bearer(await issue_reader(sessionmaker))
    listed = (await registry_api.get("/v1/audit/checkpoints", headers=auditor)).json()["items"]
    newest = listed[0]
    assert newest["head_hash"] == lines[0]["head_hash"]
    statement = CheckpointStatement(
        record_count=newest["record_count"],
        head_sequence=newest["head_sequence"],
        head_hash=newest["head_hash"],
        signed_at=json_datetime(newest["signed_at"]),
    )
    assert signature_holds(
        statement, signature=newest["signature"], public_key=newest["public_key"]
    )
    verify = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
    assert verify["status"] == "intact" and verify["checkpoint"]["holds"] is True


def json_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_truncated_ledger_is_caught_against_the_last_checkpoint(
    sessionmaker: async_sessionmaker[AsyncSession], registry_api: httpx.AsyncClient
) -> None:
    """A superuser deletes the newest records (the trigger disabled): every remaining hash still
    chains, so only the signed checkpoint can tell."""
    await append_some(sessionmaker, 3)
    async with unit_of_work(sessionmaker) as session:
        checkpoint = await take_checkpoint(session, settings=RegistrySettings())
    assert checkpoint is not None
    head = checkpoint.head_sequence
    async with unit_of_work(sessionmaker) as session:
        removed = (
            (
                await session.execute(
                    text(
                        "SELECT * FROM registry.ledger_record WHERE sequence > :keep ORDER BY sequence"
                    ),
                    {"keep": head - 2},
                )
            )
            .mappings()
            .all()
        )
        await session.execute(
            text("ALTER TABLE registry.ledger_record DISABLE TRIGGER ledger_record_append_only")
        )
        await session.execute(
            text("DELETE FROM registry.ledger_record WHERE sequence > :keep"), {"keep": head - 2}
        )
        await session.execute(
            text("ALTER TABLE registry.ledger_record ENABLE TRIGGER ledger_record_append_only")
        )
    try:
        auditor = bearer(await issue_reader(sessionmaker))
        verify = (await registry_api.get("/v1/audit/verify", headers=auditor)).json()
        assert verify["status"] == "broken"
        assert verify["first_broken"] is None  # the chain itself still links up
        assert verify["checkpoint"]["holds"] is False
        assert verify["checkpoint"]["reason"].startswith("truncated")
    finally:
        # The run's database is shared: put the records back as they were.
        async with unit_of_work(sessionmaker) as session:
            for row in removed:
                columns = ", ".join(row.keys())
                values = ", ".join(f":{name}" for name in row.keys())
                await session.execute(
                    text(f"INSERT INTO registry.ledger_record ({columns}) VALUES ({values})"),
                    dict(row),
                )
