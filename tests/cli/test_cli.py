"""The `conduct` operators' command: help with examples, dead letters listed and replayed,
the ledger verified."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from shared.cli import app
from shared.db import unit_of_work
from shared.messages import Envelope
from tests.registry.factories import determination
from tests.support import run_worker

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["dead-letters", "list"], ["dead-letters", "replay"], ["ledger", "verify"]],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: conduct" in result.output


def test_an_unknown_service_is_refused() -> None:
    result = runner.invoke(app, ["dead-letters", "list", "--service", "payroll"])
    assert result.exit_code != 0
    assert "unknown service" in result.output


async def invoke(*arguments: str) -> tuple[int, str]:
    result = await asyncio.to_thread(runner.invoke, app, list(arguments))
    return result.exit_code, result.output


async def test_a_dead_letter_is_listed_and_replayed_to_its_effect(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    """A determination that failed earlier (say, the database was down for all its attempts)
    is replayed by the operator and then recorded once."""
    payload = determination()
    envelope = Envelope.wrap(payload, producer="review", correlation_id="cli-test")
    job_id = f"dead:{uuid.uuid4()}"
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text(
                "INSERT INTO registry.dead_letter (job_id, message_type, envelope, error, attempts) "
                "VALUES (:job_id, :type, CAST(:envelope AS JSONB), 'OperationalError: gone', 5)"
            ),
            {"job_id": job_id, "type": envelope.type, "envelope": envelope.model_dump_json()},
        )

    code, listed = await invoke("dead-letters", "list", "--service", "registry", "--json")
    assert code == 0, listed
    letters = {entry["job_id"]: entry for entry in map(json.loads, listed.splitlines())}
    assert letters[job_id]["attempts"] == 5 and letters[job_id]["replayed_at"] is None

    code, replayed = await invoke("dead-letters", "replay", "--service", "registry", job_id)
    assert code == 0, replayed
    await run_worker("registry", queue)
    async with sessionmaker() as session:
        records = (
            await session.execute(
                text("SELECT count(*) FROM registry.ledger_record WHERE case_id = :id"),
                {"id": payload.case_id},
            )
        ).scalar_one()
        replayed_at = (
            await session.execute(
                text("SELECT replayed_at FROM registry.dead_letter WHERE job_id = :id"),
                {"id": job_id},
            )
        ).scalar_one()
    assert records == 1 and replayed_at is not None

    code, again = await invoke("dead-letters", "replay", "--service", "registry", "no-such-job")
    assert code == 1 and "no dead letter" in again


async def test_ledger_verify_says_intact(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    code, output = await invoke("ledger", "verify")
    assert code == 0, output
    assert "ledger intact" in output


def test_json_of_envelope_round_trips() -> None:
    envelope = Envelope.wrap(determination(), producer="review", correlation_id="x")
    assert Envelope.model_validate(json.loads(envelope.model_dump_json())) == envelope
