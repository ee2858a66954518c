"""Fixtures of intake's tests: the evidence stores the evidence API tests run against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.intake.evidence_support import EvidenceStore, filesystem_store, s3_server, s3_store


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One S3-compatible server (moto's) for the run, started only if a test asks for it."""
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["filesystem", "s3"])
def evidence_store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    """The test's own evidence store, each test run once per kind: a fresh directory, or a
    fresh bucket."""
    if request.param == "s3":
        return s3_store(request.getfixturevalue("s3_endpoint"))
    return filesystem_store(tmp_path / "evidence")
