"""`python -m shared.devstack`: the command line behind `make run`, `make test` and `make bench`.

- `servers`: make sure PostgreSQL and Redis answer and write their URLs to an env file.
- `stop-servers`: stop the embedded servers under `.data/`.
- `run`: servers, demo data, then every API and worker until Ctrl-C.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from shared.devstack import DATA_DIR
from shared.devstack.servers import (
    Endpoint,
    ServerSetupError,
    ensure_postgres_endpoint,
    ensure_redis_endpoint,
    stop_embedded,
)
from shared.devstack.supervisor import (
    DEFAULT_PORTS,
    SERVICES,
    Stack,
    StackError,
    run_forever,
    service_specs,
)

# The same defaults as the services' settings (shared/settings.py): the machine's own servers.
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/conduct"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_ENV_FILE = DATA_DIR / "stack.env"

console = Console()
app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def _configure_logging() -> None:
    # Only our own logger: configuring the root one would also surface every INFO line of the
    # libraries that `run` calls in-process (alembic's plugin setup...).
    logger = logging.getLogger("shared.devstack")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=console, show_time=False, show_path=False))
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _configured(name: str, default: str) -> str:
    # An exported but empty variable (e.g. from a CI template) means "not configured".
    return os.environ.get(name, "").strip() or default


def _int_setting(value: int | None, name: str, default: int) -> int:
    if value is not None:
        return value
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise typer.BadParameter(f"{name}={raw!r} is not a whole number") from None
    if number < 1:
        raise typer.BadParameter(f"{name} must be at least 1")
    return number


def _describe(what: str, endpoint: Endpoint) -> None:
    if not endpoint.embedded:
        how = "configured, answers"
    elif endpoint.started:
        how = f"embedded, started now; data in {DATA_DIR}"
    else:
        how = f"embedded, already running; data in {DATA_DIR}"
    console.print(f"[bold]{what}[/bold] {endpoint.url}  [dim]({how})[/dim]")


def _ensure_servers() -> tuple[Endpoint, Endpoint]:
    try:
        postgres = ensure_postgres_endpoint(
            _configured("DATABASE_URL", DEFAULT_DATABASE_URL), DATA_DIR
        )
        redis = ensure_redis_endpoint(_configured("REDIS_URL", DEFAULT_REDIS_URL), DATA_DIR)
    except ServerSetupError as error:
        console.print(str(error), markup=False, style="red")
        raise typer.Exit(1) from None
    _describe("PostgreSQL", postgres)
    _describe("Redis     ", redis)
    return postgres, redis


def _write_env_file(path: Path, database_url: str, redis_url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `python -m shared.devstack servers`; source it: `. .data/stack.env`\n"
        f"export DATABASE_URL={shlex.quote(database_url)}\n"
        f"export REDIS_URL={shlex.quote(redis_url)}\n"
    )


@app.command()
def servers(
    env_file: Annotated[
        Path, typer.Option(help="Where to write `export DATABASE_URL=...` and REDIS_URL")
    ] = DEFAULT_ENV_FILE,
) -> None:
    """Make sure PostgreSQL and Redis answer (embedded ones under .data/ if need be)."""
    _configure_logging()
    postgres, redis = _ensure_servers()
    _write_env_file(env_file, postgres.url, redis.url)
    console.print(f"wrote {env_file}")


@app.command()
def stop_servers() -> None:
    """Stop the embedded PostgreSQL and Redis under .data/ (configured servers are left alone)."""
    _configure_logging()
    try:
        stopped = stop_embedded(DATA_DIR)
    except ServerSetupError as error:
        console.print(str(error), markup=False, style="red")
        raise typer.Exit(1) from None
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "no embedded server was running")


def _prepare_demo(database_url: str, redis_url: str) -> dict[str, str]:
    """Migrate and seed; returns the environment the services need besides the servers'."""
    try:
        from shared.devstack.demo import prepare_demo, review_registry_link
    except ModuleNotFoundError as error:
        # Only a missing demo module is tolerated; a broken one should fail loudly.
        if error.name != "shared.devstack.demo":
            raise
        console.print("[yellow]shared/devstack/demo.py is missing: no migrations, no demo data[/]")
        return {}
    credentials = prepare_demo(database_url, redis_url, DATA_DIR)
    console.print(f"demo credentials: [bold]{credentials}[/bold]")
    tokens = json.loads(credentials.read_text())["tokens"]
    return review_registry_link(tokens, f"http://127.0.0.1:{DEFAULT_PORTS['registry']}")


def _show_urls(api_processes: int, workers: int) -> None:
    table = Table(title="conduct is running (Ctrl-C stops it)")
    table.add_column("service")
    table.add_column("API")
    table.add_column("API processes", justify="right")
    table.add_column("workers", justify="right")
    for service in SERVICES:
        table.add_row(
            service, f"http://127.0.0.1:{DEFAULT_PORTS[service]}", str(api_processes), str(workers)
        )
    console.print(table)


@app.command()
def run(
    api_processes: Annotated[
        int | None, typer.Option(help="uvicorn processes per API [env API_PROCESSES, default 1]")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="arq workers per service [env WORKERS, default 1]")
    ] = None,
) -> None:
    """Servers, migrations and demo data, then every API and worker until Ctrl-C."""
    _configure_logging()
    api_count = _int_setting(api_processes, "API_PROCESSES", 1)
    worker_count = _int_setting(workers, "WORKERS", 1)
    postgres, redis = _ensure_servers()
    try:
        code = _run_stack(postgres, redis, api_count, worker_count)
    except KeyboardInterrupt:
        console.print("interrupted")
        code = 130
    finally:
        # Servers this run started go with it; ones that were already running stay.
        ours = [name for name, end in (("postgres", postgres), ("redis", redis)) if end.started]
        if ours:
            stopped = stop_embedded(DATA_DIR, only=ours)
            console.print(f"stopped the embedded {', '.join(stopped) or 'servers'}")
    raise typer.Exit(code)


def _run_stack(postgres: Endpoint, redis: Endpoint, api_count: int, worker_count: int) -> int:
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url}
    env |= _prepare_demo(postgres.url, redis.url)
    stack = Stack()
    try:
        specs = service_specs(
            env, python=sys.executable, api_processes=api_count, workers=worker_count
        )
        stack.start(specs)
        stack.wait_ready(timeout=60)
    except StackError as error:
        stack.stop()
        console.print(str(error), markup=False, style="red")
        return 1
    except BaseException:
        stack.stop()  # e.g. Ctrl-C while starting: no orphans
        raise
    _show_urls(api_count, worker_count)
    return run_forever(stack)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
