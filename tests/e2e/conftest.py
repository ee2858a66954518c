"""The real stack for the end-to-end tests of this folder, started once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stack import RunningStack, isolated_stack


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with isolated_stack(label="e2e", data_dir=tmp_path_factory.mktemp("e2e")) as stack:
        yield stack
