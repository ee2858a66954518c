"""Container probes that need no curl: an API's health route, and a worker's heartbeat.

Standard library only, so a probe starts in a few tens of milliseconds. Exit 0 when healthy,
1 with a one-line reason on stderr when not.

    python -m deploy.probe http /healthz /readyz # the API on $PORT (or --port) answers 2xx to each
    python -m deploy.probe heartbeat             # the worker touched its heartbeat recently
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

# The worker launcher (deploy/worker.py) writes here; the probe reads. Under /tmp: the only
# writable place in the container.
DEFAULT_HEARTBEAT_FILE = Path("/tmp/worker-heartbeat")
HEARTBEAT_FILE_VARIABLE = "WORKER_HEARTBEAT_FILE"
DEFAULT_MAX_AGE_SECONDS = 30.0


def heartbeat_file() -> Path:
    """Where the heartbeat goes: $WORKER_HEARTBEAT_FILE, or /tmp/worker-heartbeat."""
    return Path(os.environ.get(HEARTBEAT_FILE_VARIABLE) or DEFAULT_HEARTBEAT_FILE)


def check_http(url: str, *, timeout: float = 2.0) -> str | None:
    """None if `url` answers 2xx; otherwise why not."""
    # No proxy: an HTTP(S)_PROXY in the container's environment must not intercept localhost.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url} did not answer: {error}"
    return None if 200 <= status < 300 else f"{url} answered {status}"


def check_heartbeat(path: Path, *, max_age_seconds: float, now: float | None = None) -> str | None:
    """None if `path` was touched within `max_age_seconds`; otherwise why not."""
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}: the worker has not finished starting, or has stopped"
    age = (time.time() if now is None else now) - modified
    if age > max_age_seconds:
        return f"heartbeat at {path} is {age:.0f} s old (more than {max_age_seconds:.0f} s)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.probe", description=__doc__)
    checks = parser.add_subparsers(dest="check", required=True)
    http = checks.add_parser("http", help="GET paths on the local API; all must answer 2xx")
    http.add_argument("paths", nargs="+", metavar="path", help="for example /healthz /readyz")
    http.add_argument("--port", type=int, default=None, help="default: $PORT")
    http.add_argument("--timeout", type=float, default=2.0)
    heartbeat = checks.add_parser("heartbeat", help="the worker's heartbeat file is fresh")
    heartbeat.add_argument(
        "--file",
        type=Path,
        default=None,
        help=f"default: ${HEARTBEAT_FILE_VARIABLE} or {DEFAULT_HEARTBEAT_FILE}",
    )
    heartbeat.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE_SECONDS)
    args = parser.parse_args(argv)

    problem: str | None = None
    if args.check == "http":
        port = args.port if args.port is not None else os.environ.get("PORT")
        if not port:
            parser.error("no --port and no $PORT")
        for path in args.paths:
            problem = check_http(f"http://127.0.0.1:{port}{path}", timeout=args.timeout)
            if problem is not None:
                break
    else:
        problem = check_heartbeat(args.file or heartbeat_file(), max_age_seconds=args.max_age)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
