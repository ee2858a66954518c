"""`conduct roster`: an organisation's employee roster (office and supervisor of each employee)
imported from CSV, which review reads to keep investigators out of the subject's chain of
command. Reading the file and writing the rows are review's own functions; this only calls
them, in one transaction, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from shared.cli.common import console, in_transaction, refuse, say

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

roster = typer.Typer(help="Organisations' employee rosters.", no_args_is_help=True)

BATCH = 1_000


@roster.command("import")
def import_command(
    organisation: Annotated[str, typer.Argument(help="The department or institution code")],
    path: Annotated[
        Path,
        typer.Argument(
            help="UTF-8 CSV with a header: employee_ref,name,designation,office,reports_to",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Import (or update) an organisation's roster from CSV: each row an employee with their
    office and the employee_ref of whom they report to (empty at the top). Rows that cannot be
    read are listed by number and skipped; the rest are stored in one transaction.

    Example: conduct roster import HEALTH roster.csv
    """
    from services.review.roster.service import (
        RosterFileError,
        batches,
        import_roster_rows,
        read_roster_csv,
    )

    if not organisation.strip() or len(organisation) > 64:
        raise typer.BadParameter("an organisation code of 1 to 64 characters")
    try:
        rows, rejected = read_roster_csv(path.read_bytes())
    except RosterFileError as unreadable:
        refuse(f"{path} cannot be imported: {unreadable}")
    for row in rejected:
        console.print(f"[yellow]row {row.row} skipped: {row.reason}[/yellow]", highlight=False)

    async def work(session: AsyncSession) -> int:
        stored = 0
        with Progress(
            TextColumn("[bold]roster[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("import", total=len(rows))
            for batch in batches(rows, BATCH):
                stored += await import_roster_rows(
                    session, organisation_code=organisation, rows=batch
                )
                progress.advance(task, len(batch))
        return stored

    stored = in_transaction(work)
    say(f"{stored} employees of {organisation} imported; {len(rejected)} rows skipped")
