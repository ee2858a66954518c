"""A small process supervisor for the services' APIs and workers.

Owns the child processes of a local run (`make run`), of the end-to-end tests and of the
benchmarks: starting them (each in its own session, so a terminal's Ctrl-C reaches only the
supervisor, which then stops them in order), waiting until their APIs answer, killing and
restarting one on demand, and stopping all of them without leaving orphans behind.

Output goes either to our stdout with a `[name]` prefix per line (`make run`) or to one log
file per process (`log_dir`, for tests), and the last lines are kept for error messages.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, MappingProxyType, TracebackType
from typing import IO, Self

import httpx

from shared.devstack import REPO_ROOT

SERVICES = ("intake", "review", "registry")
DEFAULT_PORTS: Mapping[str, int] = MappingProxyType(
    {"intake": 8001, "review": 8002, "registry": 8003}
)
TAIL_LINES = 40

_COLOURS = ("36", "33", "35", "32", "34", "31")


class StackError(RuntimeError):
    """A process of the stack failed to start, become ready, or stay up."""


@dataclass
class ProcessSpec:
    """One process to run: its argv, the environment overlaid on ours, and where it says ready."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str | None = None
    cwd: Path | None = field(default=None)


@dataclass
class _Running:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    tail: deque[str]
    reader: threading.Thread | None
    log_path: Path | None

    @property
    def exited(self) -> bool:
        return self.process.poll() is not None


class Stack:
    """The running processes of one stack, by name.

    With `log_dir`, each process writes to `<log_dir>/<name>.log` (appended across restarts);
    without, its lines go to `output` (our stdout) prefixed with its name.
    """

    def __init__(self, log_dir: Path | None = None, *, output: IO[str] | None = None) -> None:
        self.log_dir = log_dir
        self._output = output if output is not None else sys.stdout
        self._colour = self._output.isatty() and not os.environ.get("NO_COLOR")
        self._write_lock = threading.Lock()
        self._processes: dict[str, _Running] = {}
        self._width = 0

    # -- context manager

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- starting

    def start(self, specs: Sequence[ProcessSpec]) -> None:
        """Spawn every spec; if one cannot be spawned, stop those already started."""
        self._width = max([self._width, *(len(spec.name) for spec in specs)])
        try:
            for spec in specs:
                if spec.name in self._processes and not self._processes[spec.name].exited:
                    raise StackError(f"{spec.name} is already running")
                self._processes[spec.name] = self._spawn(spec)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, spec: ProcessSpec) -> _Running:
        env = {**os.environ, **spec.env}
        # Children write to a pipe or a file: without this their stdout is block-buffered and
        # lines would show up late (or be lost on a kill -9).
        env.setdefault("PYTHONUNBUFFERED", "1")
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        log_path: Path | None = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"{spec.name}.log"
            with log_path.open("ab") as log:
                log.write(f"--- {time.strftime('%H:%M:%S')} starting {spec.argv}\n".encode())
                log.flush()
                # The child gets its own copy of the descriptor; ours can close at once.
                process = self._popen(spec, env, stdout=log)
            return _Running(spec, process, tail, None, log_path)
        process = self._popen(spec, env, stdout=subprocess.PIPE)
        reader = threading.Thread(
            target=self._pump,
            args=(spec.name, process, tail),
            name=f"output-{spec.name}",
            daemon=True,
        )
        reader.start()
        return _Running(spec, process, tail, reader, None)

    def _popen(
        self, spec: ProcessSpec, env: dict[str, str], *, stdout: IO[bytes] | int
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            spec.argv,
            env=env,
            cwd=spec.cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            # Own process group and session: signals go to the whole group (uvicorn's worker
            # processes included) and a terminal's Ctrl-C does not bypass our orderly stop.
            start_new_session=True,
        )

    def _pump(self, name: str, process: subprocess.Popen[bytes], tail: deque[str]) -> None:
        assert process.stdout is not None  # started with stdout=PIPE
        label = f"[{name}]".ljust(self._width + 2)
        if self._colour:
            colour = _COLOURS[sum(name.encode()) % len(_COLOURS)]
            label = f"\x1b[{colour}m{label}\x1b[0m"
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            tail.append(line)
            with self._write_lock:
                self._output.write(f"{label} {line}\n")
                self._output.flush()
        process.stdout.close()

    def announce(self, message: str) -> None:
        """Write a line of the supervisor's own, between the children's lines."""
        with self._write_lock:
            self._output.write(f"[devstack] {message}\n")
            self._output.flush()

    # -- readiness

    def wait_ready(self, timeout: float = 60) -> None:
        """Poll every `ready_url` until it answers 200; raise if a process exits or time runs out."""
        deadline = time.monotonic() + timeout
        pending = {name for name, running in self._processes.items() if running.spec.ready_url}
        # trust_env=False: an HTTP(S)_PROXY in the environment must not intercept 127.0.0.1.
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                for name, running in self._processes.items():
                    if running.exited:
                        raise StackError(
                            f"{name} exited with code {running.process.returncode} before the "
                            f"stack was ready\n{self.log_tail(name)}"
                        )
                for name in sorted(pending):
                    url = self._processes[name].spec.ready_url
                    assert url is not None  # only processes with a ready_url are pending
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(url).status_code == 200:
                            pending.discard(name)
                if not pending:
                    return
                if time.monotonic() >= deadline:
                    tails = "\n".join(self.log_tail(name) for name in sorted(pending))
                    raise StackError(
                        f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}\n{tails}"
                    )
                time.sleep(0.2)

    # -- inspecting

    @property
    def names(self) -> list[str]:
        return list(self._processes)

    def is_running(self, name: str) -> bool:
        return not self._get(name).exited

    def pid(self, name: str) -> int:
        return self._get(name).process.pid

    def returncode(self, name: str) -> int | None:
        return self._get(name).process.poll()

    def exited(self) -> dict[str, int]:
        """The processes that have exited, with their exit codes (negative: killed by signal)."""
        return {
            name: code
            for name, running in self._processes.items()
            if (code := running.process.poll()) is not None
        }

    def log_tail(self, name: str, lines: int = TAIL_LINES) -> str:
        running = self._get(name)
        if running.log_path is not None:
            text = _read_end(running.log_path)
            body = text.splitlines()[-lines:]
            where = str(running.log_path)
        else:
            body = list(running.tail)[-lines:]
            where = "output"
        return f"--- last lines of {name} ({where}) ---\n" + "\n".join(body)

    def _get(self, name: str) -> _Running:
        try:
            return self._processes[name]
        except KeyError:
            raise KeyError(f"no process named {name!r}; known: {self.names}") from None

    # -- signalling, restarting, stopping

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process `name` and everything it started (its process group)."""
        running = self._get(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.process.pid, sig)

    def restart(self, name: str, timeout: float = 10) -> None:
        """Stop `name` (if running) and start it again with the same spec; call `wait_ready`
        afterwards to wait for it to answer."""
        running = self._get(name)
        self._terminate([running], timeout)
        self._processes[name] = self._spawn(running.spec)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM every process group, wait up to `timeout`, then SIGKILL what remains."""
        self._terminate(list(self._processes.values()), timeout)

    def _terminate(self, processes: list[_Running], timeout: float) -> None:
        for running in processes:
            # Even a leader that has exited may have left children in its group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(running.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_group_alive(running) for running in processes):
            if time.monotonic() >= deadline:
                for running in processes:
                    if _group_alive(running):
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(running.process.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        for running in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.process.wait(timeout=5)
            if running.reader is not None:
                # EOF arrives once every process holding the pipe has gone.
                running.reader.join(timeout=2)


def _group_alive(running: _Running) -> bool:
    """Whether the process or any member of its process group is still alive."""
    if running.process.poll() is None:
        return True
    try:
        # The leader is reaped (poll above), so any answer here is a leftover group member.
        os.killpg(running.process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_end(path: Path, size: int = 32768) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"


def uvicorn_spec(
    name: str,
    app_factory: str,
    *,
    env: Mapping[str, str],
    port: int,
    processes: int = 1,
    python: str = sys.executable,
    ready_path: str = "/readyz",
    extra_args: Sequence[str] = (),
) -> ProcessSpec:
    """An ASGI app factory ("module:function") served by uvicorn on 127.0.0.1:`port`."""
    return ProcessSpec(
        name=name,
        argv=[
            python,
            "-m",
            "uvicorn",
            app_factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(processes),
            *extra_args,
        ],
        env=dict(env),
        ready_url=f"http://127.0.0.1:{port}{ready_path}",
        cwd=REPO_ROOT,
    )


def service_specs(
    env: Mapping[str, str],
    python: str = sys.executable,
    api_processes: int = 1,
    workers: int = 1,
    ports: Mapping[str, int] = DEFAULT_PORTS,
) -> list[ProcessSpec]:
    """The API and the arq workers of each service, as `make run` and the e2e tests run them."""
    specs: list[ProcessSpec] = []
    for service in SERVICES:
        port = ports[service]
        specs.append(
            uvicorn_spec(
                f"{service}-api",
                f"services.{service}.app:create_app",
                env=env,
                port=port,
                processes=api_processes,
                python=python,
            )
        )
        for number in range(1, workers + 1):
            specs.append(
                ProcessSpec(
                    name=f"{service}-worker-{number}",
                    # arq's worker, started again in-process when Redis is lost.
                    argv=[
                        python,
                        "-m",
                        "shared.worker_main",
                        f"services.{service}.worker.WorkerSettings",
                    ],
                    env=dict(env),
                    ready_url=None,
                    cwd=REPO_ROOT,
                )
            )
    return specs


def run_forever(stack: Stack, *, poll_interval: float = 0.5) -> int:
    """Watch the stack until SIGINT/SIGTERM (exit 0) or until a child dies (exit 1); either
    way, stop everything before returning."""
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not received:
            dead = stack.exited()
            if dead:
                for name, code in dead.items():
                    how = f"signal {-code}" if code < 0 else f"code {code}"
                    stack.announce(f"{name} exited unexpectedly ({how})")
                    stack.announce(stack.log_tail(name, lines=15))
                stack.announce("stopping the rest")
                return 1
            time.sleep(poll_interval)
        stack.announce(f"{signal.Signals(received[0]).name} received, stopping")
        return 0
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stack.announce("stopped")
