"""`conduct retention preview` and `conduct retention apply`: a dry run that lists and changes
nothing, and an apply that needs the preview's digest, --yes or a yes at the prompt, and is
refused when what is due changed since the preview."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from services.registry.ledger.service import verify_ledger
from shared.cli import app
from tests.factories import unique_code
from tests.registry.test_retention import cleared_long_ago

runner = CliRunner()


@pytest.mark.parametrize("command", [["retention", "preview"], ["retention", "apply"]])
def test_retention_commands_have_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: conduct retention" in result.output


async def invoke(*arguments: str, given: str | None = None) -> tuple[int, str]:
    result = await asyncio.to_thread(runner.invoke, app, list(arguments), given)
    return result.exit_code, result.output


async def salt_of(sessionmaker: async_sessionmaker[AsyncSession], record_id: uuid.UUID) -> object:
    async with sessionmaker() as session:
        return await session.scalar(
            text("SELECT personal_salt FROM registry.ledger_record WHERE id = :id"),
            {"id": record_id},
        )


async def test_preview_lists_the_due_case_and_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department = unique_code("RETCLI")
    due = await cleared_long_ago(sessionmaker, department=department)
    await cleared_long_ago(sessionmaker, department=department, days=30)

    code, output = await invoke("retention", "preview", "--department", department)

    assert code == 0, output
    assert str(due.case_id)[:8] in output
    assert "1 records of 1 cases would lose their personal data" in output
    assert re.search(r"preview digest: [0-9a-f]{64}", output)
    assert due.employee_name is not None and due.employee_name not in output
    assert await salt_of(sessionmaker, due.id) is not None


async def test_apply_asks_first_and_purges_nothing_without_a_yes(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department = unique_code("RETCLI")
    due = await cleared_long_ago(sessionmaker, department=department)

    code, output = await invoke("retention", "apply", "--department", department, given="n\n")

    assert code != 0
    assert "Purge the personal data of these records?" in output
    assert await salt_of(sessionmaker, due.id) is not None


async def test_apply_with_yes_purges_records_it_and_a_second_apply_finds_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    department = unique_code("RETCLI")
    due = await cleared_long_ago(sessionmaker, department=department)

    code, output = await invoke("retention", "apply", "--department", department, "--yes")

    assert code == 0, output
    assert "purged 1 records of 1 cases" in output
    assert await salt_of(sessionmaker, due.id) is None
    async with sessionmaker() as session:
        assert (await verify_ledger(session, batch_size=500)).status == "intact"
    code, output = await invoke("retention", "apply", "--department", department, "--yes")
    assert code == 0, output
    assert "nothing is due" in output


async def test_apply_with_a_stale_digest_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Bad input tried: the digest of a preview taken before another case became due."""
    department = unique_code("RETCLI")
    first = await cleared_long_ago(sessionmaker, department=department)
    _, output = await invoke("retention", "preview", "--department", department)
    digest = re.findall(r"preview digest: ([0-9a-f]{64})", output)[0]
    await cleared_long_ago(sessionmaker, department=department)

    code, output = await invoke(
        "retention", "apply", "--department", department, "--digest", digest
    )

    assert code == 1
    assert "preview again" in output
    assert await salt_of(sessionmaker, first.id) is not None
