"""The real stack as separate processes (uvicorn APIs + arq workers) on its own database and
queue namespace, seeded with the demo unit and credentials as `make run` does. Used by the
end-to-end tests, the fault tests and the benchmarks."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.devstack.demo import prepare_demo, review_registry_link
from shared.devstack.supervisor import Stack, service_specs
from shared.settings import to_plain_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_url() -> str:
    return to_plain_url(
        os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    )


def with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def administer(sql: str) -> None:
    connection = await asyncpg.connect(with_database(server_url(), "postgres"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scratch_database(label: str = "migrations") -> Iterator[str]:
    """A fresh, empty database of its own on the test server, as a URL; dropped afterwards.
    For tests that migrate up and down, which must not touch the run's shared database."""
    database = f"conduct_{label}_{uuid.uuid4().hex[:10]}"
    asyncio.run(administer(f'CREATE DATABASE "{database}"'))
    try:
        yield with_database(server_url(), database)
    finally:
        asyncio.run(administer(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@dataclass(frozen=True)
class RunningStack:
    stack: Stack
    urls: dict[str, str]
    tokens: dict[str, str]
    env: dict[str, str]
    database_url: str


@contextmanager
def isolated_stack(
    *,
    label: str,
    data_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    api_processes: int = 1,
    workers: int = 1,
    redis_url: str | None = None,
    route_database: Callable[[str], str] | None = None,
) -> Iterator[RunningStack]:
    """Start the stack on a fresh database of its own (scratch_database); drop it afterwards.

    `redis_url` puts the stack on another Redis than the run's; `route_database` rewrites the
    database URL the processes use (the fault tests send it through a proxy), while the stack
    is prepared, and `database_url` reports, the direct one."""
    run_id = uuid.uuid4().hex[:8]
    redis_url = redis_url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    with scratch_database(label) as database_url:
        credentials = json.loads(prepare_demo(database_url, redis_url, data_dir).read_text())
        ports = {service: free_port() for service in ("intake", "review", "registry")}
        env = {
            **os.environ,
            "DATABASE_URL": route_database(database_url) if route_database else database_url,
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": f"{label}-{run_id}",
            "RELAY_POLL_SECONDS": "0.5",
            "LOG_JSON": "true",
            # review asks this stack's registry at triage, with its own reader credential.
            **review_registry_link(credentials["tokens"], f"http://127.0.0.1:{ports['registry']}"),
            **(extra_env or {}),
        }
        stack = Stack(log_dir=data_dir / "logs")
        try:
            stack.start(
                service_specs(env, ports=ports, api_processes=api_processes, workers=workers)
            )
            stack.wait_ready(timeout=90)
            yield RunningStack(
                stack=stack,
                urls={service: f"http://127.0.0.1:{port}" for service, port in ports.items()},
                tokens=credentials["tokens"],
                env=env,
                database_url=database_url,
            )
        finally:
            stack.stop()
