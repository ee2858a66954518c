"""The case life cycle as a state machine: legal moves, refused moves, and the gates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.review.cases.lifecycle import (
    CONFIDENTIAL_EXIT_GATE,
    CONFIDENTIAL_EXITS,
    GATES,
    TRANSITIONS,
    CaseState,
    IllegalTransition,
    can_transition,
    check_transition,
    states_leading_to,
)

HAPPY_PATH = [
    CaseState.RECEIVED,
    CaseState.ASSIGNED,
    CaseState.IN_REVIEW,
    CaseState.NOTICE_ISSUED,
    CaseState.REPLY_RECEIVED,
    CaseState.HEARING_CONCLUDED,
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
        (CaseState.NOTICE_ISSUED, CaseState.HEARING_CONCLUDED),
        (CaseState.REPLY_RECEIVED, CaseState.DETERMINED),
        (CaseState.REPLY_WINDOW_LAPSED, CaseState.DETERMINED),
        (CaseState.HEARING_CONCLUDED, CaseState.HEARING_CONCLUDED),
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
def test_no_sequence_reaches_a_determination_before_its_gates(
    attempts: list[CaseState],
) -> None:
    """Apply any sequence of attempted moves, keeping the legal ones: whenever the case reaches
    'determined', a notice was served, then a reply received or the window lapsed, then a
    hearing held or waived, in that order; and no state is ever visited twice."""
    state = CaseState.RECEIVED
    visited = [state]
    for target in attempts:
        if can_transition(state, target):
            state = target
            visited.append(state)
        if state == CaseState.DETERMINED:
            before = visited[: visited.index(CaseState.DETERMINED)]
            assert CaseState.NOTICE_ISSUED in before
            replied = [
                s for s in before if s in {CaseState.REPLY_RECEIVED, CaseState.REPLY_WINDOW_LAPSED}
            ]
            assert len(replied) == 1
            assert CaseState.HEARING_CONCLUDED in before
            assert (
                before.index(CaseState.ASSIGNED)
                < before.index(CaseState.NOTICE_ISSUED)
                < before.index(replied[0])
                < before.index(CaseState.HEARING_CONCLUDED)
            )
        assert len(visited) == len(set(visited))


def test_every_state_but_the_first_has_a_gate_and_can_be_reached() -> None:
    """The table and the gates describe the same machine: a state nobody can enter, or one
    entered without a stated gate, would be a hole in the procedure."""
    reachable = {CaseState.RECEIVED}
    frontier = [CaseState.RECEIVED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(CaseState)
    assert set(GATES) == set(CaseState) - {CaseState.RECEIVED}


def test_a_lapse_starts_only_from_a_served_notice() -> None:
    assert states_leading_to(CaseState.REPLY_WINDOW_LAPSED) == {CaseState.NOTICE_ISSUED}
    assert states_leading_to(CaseState.HEARING_CONCLUDED) == {
        CaseState.REPLY_RECEIVED,
        CaseState.REPLY_WINDOW_LAPSED,
    }


def test_the_confidential_channel_is_left_only_by_the_chairs_outcome() -> None:
    """No ordinary step leaves the channel; the chair's way out leads to closed, dismissed or
    back to review, and is open from the channel only (409 naming its gate elsewhere)."""
    assert TRANSITIONS[CaseState.CONFIDENTIAL_CHANNEL] == frozenset()
    assert CONFIDENTIAL_EXITS == {
        CaseState.CONFIDENTIAL_CHANNEL: frozenset(
            {CaseState.CLOSED, CaseState.DISMISSED, CaseState.IN_REVIEW}
        )
    }
    for target in CONFIDENTIAL_EXITS[CaseState.CONFIDENTIAL_CHANNEL]:
        check_transition(CaseState.CONFIDENTIAL_CHANNEL, target, leaving_confidential_channel=True)
        assert not can_transition(
            CaseState.CONFIDENTIAL_CHANNEL,
            target,
            kind="permission",
            leaving_confidential_channel=True,
        )
    for state in set(CaseState) - {CaseState.CONFIDENTIAL_CHANNEL}:
        with pytest.raises(IllegalTransition) as refused:
            check_transition(state, CaseState.CLOSED, leaving_confidential_channel=True)
        assert CONFIDENTIAL_EXIT_GATE in refused.value.detail
    # The sweeps read the procedure's table: nothing in the channel lapses or closes by itself.
    assert CaseState.CONFIDENTIAL_CHANNEL not in states_leading_to(CaseState.CLOSED)


@given(st.lists(st.tuples(st.sampled_from(list(CaseState)), st.booleans()), max_size=40))
def test_no_sequence_through_the_confidential_channel_skips_a_gate(
    attempts: list[tuple[CaseState, bool]],
) -> None:
    """Apply any sequence of attempted moves, ordinary or out of the channel, keeping the legal
    ones: a case leaves the channel only by the chair's outcome and only from it; no notice is
    ever served while in the channel nor before a return from it; and whenever the case reaches
    'determined', a notice, a reply (or lapse) and a hearing came after the last time it was in
    review, in that order."""
    state = CaseState.RECEIVED
    visited = [state]
    for target, leaving in attempts:
        if can_transition(state, target, leaving_confidential_channel=leaving):
            if leaving:
                assert state == CaseState.CONFIDENTIAL_CHANNEL
            if state == CaseState.CONFIDENTIAL_CHANNEL:
                assert leaving and target in {
                    CaseState.CLOSED,
                    CaseState.DISMISSED,
                    CaseState.IN_REVIEW,
                }
            state = target
            visited.append(state)
        if state == CaseState.DETERMINED:
            before = visited[: visited.index(CaseState.DETERMINED)]
            last_review = len(before) - 1 - before[::-1].index(CaseState.IN_REVIEW)
            since = before[last_review:]
            assert CaseState.CONFIDENTIAL_CHANNEL not in since
            replied = [
                s for s in since if s in {CaseState.REPLY_RECEIVED, CaseState.REPLY_WINDOW_LAPSED}
            ]
            assert len(replied) == 1
            assert (
                since.index(CaseState.NOTICE_ISSUED)
                < since.index(replied[0])
                < since.index(CaseState.HEARING_CONCLUDED)
            )
            assert visited.count(CaseState.NOTICE_ISSUED) == 1
        # Every state but review (entered again on a return) is visited at most once.
        repeated = {s for s in visited if visited.count(s) > 1}
        assert repeated <= {CaseState.IN_REVIEW, CaseState.CONFIDENTIAL_CHANNEL}
