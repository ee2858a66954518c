"""`conduct roster import` and what review makes of the roster: nobody investigates someone in
their own chain of command, above or below them. Bad files are refused whole; bad rows are
skipped by number."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from shared.cli import app
from tests.factories import create_unit_with_members, open_report_case, unique_code
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("catalogue")
runner = CliRunner()


async def invoke(*arguments: str) -> tuple[int, str]:
    result = await asyncio.to_thread(runner.invoke, app, list(arguments))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_roster_import_has_help_with_an_example() -> None:
    result = runner.invoke(app, ["roster", "import", "--help"])
    assert result.exit_code == 0
    assert "Example: conduct" in result.output


async def test_members_in_the_subjects_chain_of_command_are_never_assigned(
    review_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    department = unique_code("DEPT")
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department], member_count=3)
    above, below, free = unit.members
    subject = f"SUBJ-{department}"
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "employee_ref,name,designation,office,reports_to\n"
        f"DIR-{department},Director,Director Health,Secretariat,\n"
        f"{above.employee_ref},Ayesha Khan,Medical Superintendent,DHQ,DIR-{department}\n"
        f"{subject},Kamran Yousaf,Medical Officer,RHC Kot,{above.employee_ref}\n"
        f"{below.employee_ref},Bilal Ahmed,Dispenser,RHC Kot Annex,{subject}\n"
        f"{free.employee_ref},Sana Iqbal,Medical Officer,BHU Chak,DIR-{department}\n"
        # Tried: a row with no name, and an employee named twice; both skipped by number.
        "EMP-NONAME,,Clerk,Office,\n"
        f"{subject},Again,Medical Officer,RHC Kot,\n",
        encoding="utf-8",
    )
    code, output = await invoke("roster", "import", department, str(roster))
    assert code == 0, output
    assert "5 employees" in output and "2 rows skipped" in output
    assert "row 6 skipped" in output and "row 7 skipped" in output

    cases = [
        await open_report_case(
            sessionmaker, department=department, subject_employee_ref=subject, subject_office="X"
        )
        for _ in range(4)
    ]
    for case_id in cases:
        holders = [
            member
            for member in unit.members
            if (await review_api.get(f"/v1/cases/{case_id}", headers=member.headers)).status_code
            == 200
        ]
        # Above (the subject's supervisor) and below (reports to the subject): never.
        assert holders == [free]

    # Importing again updates in place: the roster keeps one row per employee.
    code, output = await invoke("roster", "import", department, str(roster))
    assert code == 0, output


async def test_an_unreadable_roster_is_refused_whole(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    before = await count_rows(sessionmaker, "review.roster_entry")
    not_utf8 = tmp_path / "latin1.csv"
    not_utf8.write_bytes(
        "employee_ref,name,designation,office,reports_to\nE1,Zoë,Clerk,Office,\n".encode("latin-1")
    )
    no_office = tmp_path / "no-office.csv"
    no_office.write_text("employee_ref,name,designation\nE1,Name,Clerk\n", encoding="utf-8")
    for path, reason in ((not_utf8, "not UTF-8"), (no_office, "missing columns: office")):
        code, output = await invoke("roster", "import", unique_code("DEPT"), str(path))
        assert code == 1, output
        assert reason in output
    code, output = await invoke("roster", "import", "", str(no_office))
    assert code == 2
    assert await count_rows(sessionmaker, "review.roster_entry") == before
