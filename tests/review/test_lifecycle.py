"""The case life cycle as a state machine: legal moves, refused moves, and the gates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.review.cases.lifecycle import (
    TRANSITIONS,
    CaseState,
    IllegalTransition,
    can_transition,
    check_transition,
)

HAPPY_PATH = [
    CaseState.RECEIVED,
    CaseState.ASSIGNED,
    CaseState.IN_REVIEW,
    CaseState.NOTICE_ISSUED,
    CaseState.REPLY_RECEIVED,
    CaseState.DETERMINED,
    CaseState.RECORDED,
    CaseState.CLOSED,
]


def test_the_designed_path_is_legal() -> None:
    for current, target in zip(HAPPY_PATH, HAPPY_PATH[1:], strict=False):
        check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CaseState.ASSIGNED, CaseState.DETERMINED),
        (CaseState.IN_REVIEW, CaseState.DETERMINED),
        (CaseState.NOTICE_ISSUED, CaseState.DETERMINED),
        (CaseState.NOTICE_ISSUED, CaseState.DISMISSED),
        (CaseState.RECEIVED, CaseState.NOTICE_ISSUED),
        (CaseState.DISMISSED, CaseState.IN_REVIEW),
        (CaseState.CLOSED, CaseState.APPEALED),
    ],
)
def test_skipping_a_gate_is_refused_with_409_naming_it(
    current: CaseState, target: CaseState
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition(current, target)
    assert refused.value.status == 409
    assert str(target) in refused.value.detail and "must" in refused.value.detail


def test_dismissed_and_closed_are_final() -> None:
    assert TRANSITIONS[CaseState.DISMISSED] == frozenset()
    assert TRANSITIONS[CaseState.CLOSED] == frozenset()


@given(st.lists(st.sampled_from(list(CaseState)), max_size=30))
def test_no_sequence_reaches_a_determination_before_notice_and_reply(
    attempts: list[CaseState],
) -> None:
    """Apply any sequence of attempted moves, keeping the legal ones: whenever the case reaches
    'determined', a notice was served and a reply received or the window lapsed before it."""
    state = CaseState.RECEIVED
    visited = [state]
    for target in attempts:
        if can_transition(state, target):
            state = target
            visited.append(state)
        if state == CaseState.DETERMINED:
            before = visited[: visited.index(CaseState.DETERMINED)]
            assert CaseState.NOTICE_ISSUED in before
            assert CaseState.REPLY_RECEIVED in before or CaseState.REPLY_WINDOW_LAPSED in before
            assert before.index(CaseState.NOTICE_ISSUED) > before.index(CaseState.ASSIGNED)
