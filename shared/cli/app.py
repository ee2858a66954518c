"""The `conduct` command and its subcommands."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from shared.cli.clients import clients, readers
from shared.cli.retention import retention
from shared.cli.roster import roster
from shared.cli.units import units
from shared.db import create_engine, create_sessionmaker, unit_of_work
from shared.dead_letters import (
    DeadLetterNotFound,
    NotReplayable,
    list_dead_letters,
    replay_dead_letter,
)
from shared.messages import SERVICES, Service
from shared.queue import create_queue_pool
from shared.settings import ServiceSettings

T = TypeVar("T")
console = Console()
app = typer.Typer(
    help="Operate the conduct services: migrations, units and members, credentials, dead "
    "letters, the ledger and its retention policy.",
    no_args_is_help=True,
    add_completion=False,
)
dead_letters = typer.Typer(help="Messages that could not be processed.", no_args_is_help=True)
ledger = typer.Typer(help="The registry's ledger.", no_args_is_help=True)
app.add_typer(dead_letters, name="dead-letters")
app.add_typer(ledger, name="ledger")
app.add_typer(units, name="units")
app.add_typer(clients, name="clients")
app.add_typer(readers, name="readers")
app.add_typer(roster, name="roster")
app.add_typer(retention, name="retention")

ServiceOption = Annotated[
    str, typer.Option("--service", "-s", help=f"One of {', '.join(SERVICES)}")
]


def known_service(name: str) -> Service:
    for service in SERVICES:
        if service == name:
            return service
    raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(SERVICES)}")


def run(work: Callable[[ServiceSettings], Coroutine[object, object, T]]) -> T:
    return asyncio.run(work(ServiceSettings()))


@app.command()
def migrate() -> None:
    """Bring the three schemas to the latest migration.

    Example: conduct migrate   (with DATABASE_URL pointing at the database)
    """
    from shared.migrations import upgrade_all

    upgrade_all(ServiceSettings().database_url)
    console.print("intake, review and registry are migrated")


@dead_letters.command("list")
def list_command(
    service: ServiceOption,
    include_replayed: Annotated[bool, typer.Option(help="Show replayed ones too")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List a service's dead letters, oldest first.

    Example: conduct dead-letters list --service registry
    """
    chosen = known_service(service)

    async def work(settings: ServiceSettings) -> None:
        engine = create_engine(settings, application_name="conduct-cli")
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                letters = await list_dead_letters(
                    session, service=chosen, include_replayed=include_replayed
                )
        finally:
            await engine.dispose()
        if as_json:
            for letter in letters:
                typer.echo(json.dumps(dataclasses.asdict(letter), default=str))
            return
        table = Table(title=f"{chosen} dead letters")
        for column in ("job id", "message type", "attempts", "failed at", "replayed at", "error"):
            table.add_column(column)
        for letter in letters:
            table.add_row(
                letter.job_id,
                letter.message_type,
                str(letter.attempts),
                letter.failed_at.isoformat(timespec="seconds"),
                letter.replayed_at.isoformat(timespec="seconds") if letter.replayed_at else "",
                letter.error,
            )
        console.print(table if letters else f"no dead letters in {chosen}")

    run(work)


@dead_letters.command("replay")
def replay_command(
    service: ServiceOption,
    job_id: Annotated[str, typer.Argument(help="The job id shown by `dead-letters list`")],
) -> None:
    """Hand a dead letter to its queue again (after the cause is fixed).

    Example: conduct dead-letters replay --service review conduct:review:6f1c...
    """
    chosen = known_service(service)

    async def work(settings: ServiceSettings) -> str:
        engine = create_engine(settings, application_name="conduct-cli")
        redis = await create_queue_pool(settings)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await replay_dead_letter(
                    session, service=chosen, job_id=job_id, redis=redis, settings=settings
                )
        finally:
            await redis.aclose()
            await engine.dispose()

    try:
        replay_id = run(work)
    except DeadLetterNotFound:
        console.print(f"[red]no dead letter {job_id} in {chosen}[/red]")
        raise typer.Exit(code=1) from None
    except NotReplayable as refused:
        console.print(f"[red]{refused}[/red]")
        raise typer.Exit(code=1) from None
    console.print(f"replayed as job {replay_id}")


@ledger.command("verify")
def verify_command() -> None:
    """Recompute the ledger's hash chain and check it against the latest signed checkpoint.
    Exits 1 when anything is broken.

    Example: conduct ledger verify
    """
    from services.registry.checkpoints.service import check_latest_checkpoint
    from services.registry.ledger.verification import verify_ledger_in_database
    from services.registry.settings import RegistrySettings

    async def work(settings: ServiceSettings) -> bool:
        engine = create_engine(settings, application_name="conduct-cli")
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                chain = await verify_ledger_in_database(
                    session, segments=RegistrySettings().verify_segments
                )
                checkpoint = await check_latest_checkpoint(session)
        finally:
            await engine.dispose()
        console.print(f"records checked: {chain.records_checked}; head hash {chain.head_hash}")
        intact = chain.status == "intact"
        if chain.first_broken is not None:
            broken = chain.first_broken
            console.print(
                f"[red]first broken link: record {broken.sequence} ({broken.id}): {broken.reason}[/red]"
            )
        if checkpoint is None:
            console.print("no signed checkpoint yet")
        elif checkpoint.holds:
            console.print(
                f"latest checkpoint (record {checkpoint.head_sequence}, {checkpoint.signed_at}) holds"
            )
        else:
            intact = False
            console.print(f"[red]latest checkpoint does not hold: {checkpoint.reason}[/red]")
        console.print("[green]ledger intact[/green]" if intact else "[red]ledger broken[/red]")
        return intact

    if not run(work):
        raise typer.Exit(code=1)
