"""The real stack as separate processes (uvicorn APIs + arq workers) on its own database and
queue namespace, seeded with the demo unit and credentials as `make run` does."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.devstack.demo import prepare_demo
from shared.devstack.supervisor import Stack, service_specs
from tests.conftest import SERVER_URL, _admin, _with_database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningStack:
    stack: Stack
    urls: dict[str, str]
    tokens: dict[str, str]
    env: dict[str, str]


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    database = f"conduct_e2e_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    database_url = _with_database(SERVER_URL, database)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    data_dir = tmp_path_factory.mktemp("e2e")
    credentials = json.loads(prepare_demo(database_url, redis_url, data_dir).read_text())
    ports = {service: free_port() for service in ("intake", "review", "registry")}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_PREFIX": f"e2e-{uuid.uuid4().hex[:8]}",
        "RELAY_POLL_SECONDS": "0.5",
        "LOG_JSON": "true",
    }
    stack = Stack(log_dir=Path(data_dir) / "logs")
    try:
        stack.start(service_specs(env, ports=ports))
        stack.wait_ready(timeout=60)
        yield RunningStack(
            stack=stack,
            urls={service: f"http://127.0.0.1:{port}" for service, port in ports.items()},
            tokens=credentials["tokens"],
            env=env,
        )
    finally:
        stack.stop()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
