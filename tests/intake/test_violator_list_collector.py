"""The garbage collector's pause around list uploads: uploads overlap (several requests, their
threads), so the collector resumes only when the last of them is done, and a collector someone
else had turned off stays off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.intake.violator_lists.service import CollectorPause


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()


def test_the_collector_resumes_when_the_last_overlapping_upload_ends() -> None:
    gc.enable()
    paused = CollectorPause()
    first, second = paused(), paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_failed_upload_resumes_the_collector_too() -> None:
    gc.enable()
    paused = CollectorPause()
    with pytest.raises(RuntimeError), paused():
        raise RuntimeError("the list was refused halfway")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    paused = CollectorPause()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
