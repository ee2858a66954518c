"""What every `conduct` command group shares: one database transaction per command, refusals
printed in red with exit code 1, and tokens printed once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import create_engine, create_sessionmaker, unit_of_work
from shared.errors import ProblemError
from shared.settings import ServiceSettings

T = TypeVar("T")
console = Console()


def in_transaction(work: Callable[[AsyncSession], Coroutine[object, object, T]]) -> T:
    """Run `work` in one transaction: committed if it returns, rolled back if it raises, so a
    refused command stores nothing."""

    async def run() -> T:
        engine = create_engine(ServiceSettings(), application_name="conduct-cli")
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DBAPIError as failed:
        # SQLSTATE class 22 is bad data (say, a name longer than its column): the operator's
        # input, told in PostgreSQL's own words. Anything else is not theirs to fix here.
        if str(getattr(failed.orig, "sqlstate", "")).startswith("22"):
            refuse(f"refused by the database: {str(failed.orig).splitlines()[0]}")
        raise


def refuse(message: str) -> NoReturn:
    # Escaped: the message may quote what the operator typed, which is not rich markup.
    console.print(f"[red]{escape(message)}[/red]", highlight=False)
    raise typer.Exit(code=1)


@contextmanager
def refusals_shown() -> Iterator[None]:
    """A service's refusal (unknown key id, credential not rotatable...) is shown in red and
    ends the command with exit code 1; the transaction was rolled back already."""
    try:
        yield
    except ProblemError as refused:
        refuse(refused.detail)


def show_token(token: str, *, what: str) -> None:
    # typer.echo, not rich: the token must come out exactly, never wrapped or marked up.
    console.print(
        f"[yellow bold]The {what}'s token is shown only now; it is not stored and cannot be "
        "shown again. Hand it over securely.[/yellow bold]"
    )
    typer.echo(f"token: {token}")


def say(message: str) -> None:
    """A plain line that may carry what the operator typed: no markup, no highlighting."""
    console.print(message, markup=False, highlight=False)


def moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def show_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    columns: Mapping[str, str],
    title: str,
    empty: str,
    as_json: bool,
) -> None:
    """Rows as a rich table, or as one JSON object per line with `--json`. `columns` maps
    each row key to its column heading."""
    listed = list(rows)
    if as_json:
        for row in listed:
            typer.echo(json.dumps(dict(row), default=str))
        return
    if not listed:
        console.print(empty)
        return
    table = Table(title=title)
    for heading in columns.values():
        table.add_column(heading, overflow="fold")
    for row in listed:
        # Text, not str: a label like "[HQ] portal" is shown as typed, not read as markup.
        table.add_row(*(Text(display(row[key])) for key in columns))
    console.print(table)


def display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def split_codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]
