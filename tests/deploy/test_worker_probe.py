"""The container's worker launcher and probes: the heartbeat follows the worker's life, and the
probes read it (and an API's health routes) the way compose and Kubernetes will."""

from __future__ import annotations

import asyncio
import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy import probe
from deploy.worker import main as worker_main
from deploy.worker import with_heartbeat, worker_settings_for


class FakeSettings:
    calls: list[str] = []

    @staticmethod
    async def on_startup(ctx: dict[str, Any]) -> None:
        FakeSettings.calls.append("startup")

    @staticmethod
    async def on_shutdown(ctx: dict[str, Any]) -> None:
        FakeSettings.calls.append("shutdown")


async def test_the_heartbeat_runs_from_startup_to_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "beat" / "worker-heartbeat"
    FakeSettings.calls = []
    hooks = with_heartbeat(FakeSettings, path=path, every_seconds=0.01)
    ctx: dict[str, Any] = {}
    await hooks["on_startup"](ctx)
    assert FakeSettings.calls == ["startup"]
    first = path.stat().st_mtime_ns
    os.utime(path, ns=(first - 10**9, first - 10**9))
    await asyncio.sleep(0.05)
    assert path.stat().st_mtime_ns > first - 10**9, "touched again while running"
    await hooks["on_shutdown"](ctx)
    assert FakeSettings.calls == ["startup", "shutdown"]
    assert not path.exists(), "a stopping worker is no longer ready"


async def test_no_heartbeat_when_startup_fails(tmp_path: Path) -> None:
    class Failing:
        @staticmethod
        async def on_startup(ctx: dict[str, Any]) -> None:
            raise ConnectionError("database away")

    path = tmp_path / "worker-heartbeat"
    with pytest.raises(ConnectionError):
        await with_heartbeat(Failing, path=path)["on_startup"]({})
    assert not path.exists()


def test_the_launcher_runs_each_services_worker_settings() -> None:
    for service in ("intake", "review", "registry"):
        settings_cls = worker_settings_for(service)
        attributes = vars(settings_cls)
        assert attributes["queue_name"].endswith(f":{service}")
        assert callable(attributes["on_startup"])


def test_the_launcher_refuses_an_unknown_service() -> None:
    with pytest.raises(SystemExit) as exit_info:
        worker_main(["payroll"])
    assert exit_info.value.code == 2


def test_a_fresh_heartbeat_passes_and_a_stale_or_missing_one_fails(tmp_path: Path) -> None:
    path = tmp_path / "worker-heartbeat"
    assert "no heartbeat" in (probe.check_heartbeat(path, max_age_seconds=30) or "")
    path.touch()
    assert probe.check_heartbeat(path, max_age_seconds=30) is None
    later = time.time() + 31
    assert "old" in (probe.check_heartbeat(path, max_age_seconds=30, now=later) or "")


def test_the_heartbeat_probe_reads_the_file_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "beat"
    monkeypatch.setenv("WORKER_HEARTBEAT_FILE", str(path))
    assert probe.main(["heartbeat"]) == 1
    assert str(path) in capsys.readouterr().err
    path.touch()
    assert probe.main(["heartbeat", "--max-age", "5"]) == 0


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api_port() -> Iterator[int]:
    """A stand-in API on 127.0.0.1: alive (/healthz 200) but not ready (/readyz 503)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_http_probe_needs_every_path_to_answer_2xx(
    api_port: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert probe.main(["http", "--port", str(api_port), "/healthz"]) == 0
    assert probe.main(["http", "--port", str(api_port), "/healthz", "/readyz"]) == 1
    assert "/readyz answered 503" in capsys.readouterr().err
    monkeypatch.setenv("PORT", str(api_port))
    assert probe.main(["http", "/healthz"]) == 0


def test_the_http_probe_fails_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    server.server_close()
    assert probe.main(["http", "--port", str(port), "/healthz"]) == 1
    assert "did not answer" in capsys.readouterr().err
