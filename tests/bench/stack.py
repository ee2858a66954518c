"""The stack a benchmark run measures: its own database and queue namespace on the servers
`make bench` made sure of, the three APIs and workers as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from shared.devstack.demo import prepare_demo
from shared.devstack.supervisor import Stack, service_specs
from shared.settings import to_plain_url
from tests.bench.figures import BenchContext


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _admin(server_url: str, sql: str) -> None:
    base, _, _ = server_url.rpartition("/")
    connection = await asyncpg.connect(f"{base}/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def bench_stack(*, run_id: str) -> Iterator[BenchContext]:
    server_url = to_plain_url(
        os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    database = f"conduct_bench_{run_id}"
    base, _, _ = server_url.rpartition("/")
    database_url = f"{base}/{database}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{database}"'))
    data_dir = Path(".data") / "bench" / run_id
    data_dir.mkdir(parents=True, exist_ok=True)
    tokens = json.loads(prepare_demo(database_url, redis_url, data_dir).read_text())["tokens"]
    ports = {service: _free_port() for service in ("intake", "review", "registry")}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": f"bench-{run_id}",
        "LOG_LEVEL": "WARNING",
        "RELAY_POLL_SECONDS": "0.5",
        "MAX_REQUEST_BYTES": "1048576",
        # The benchmark is one client hammering on purpose: measure intake, not its limiter.
        "INTAKE_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    stack = Stack(log_dir=data_dir / "logs")
    try:
        stack.start(service_specs(env, ports=ports))
        stack.wait_ready(timeout=90)
        yield BenchContext(
            database_url=database_url,
            urls={service: f"http://127.0.0.1:{port}" for service, port in ports.items()},
            tokens=tokens,
        )
    finally:
        stack.stop()
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
