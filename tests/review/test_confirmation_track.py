"""The confirmation track's move in the case life cycle: accepting an institution's record of
notice and reply, open only from review begun with no notice, only when asked for, refused
with 409 naming its gate; whatever the sequence, a determination still follows a reply (served
or on the institution's record) and a hearing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.review.cases.lifecycle import (
    GATES,
    ON_RECORD_GATE,
    ON_RECORD_TRANSITIONS,
    CaseState,
    IllegalTransition,
    can_transition,
    check_transition,
    states_leading_to,
)

CONFIRMATION_PATH = [
    (CaseState.RECEIVED, False),
    (CaseState.ASSIGNED, False),
    (CaseState.IN_REVIEW, False),
    (CaseState.REPLY_RECEIVED, True),
    (CaseState.HEARING_CONCLUDED, False),
    (CaseState.DETERMINED, False),
    (CaseState.RECORDED, False),
    (CaseState.CLOSED, False),
]


def test_the_confirmation_path_is_legal() -> None:
    for (current, _), (target, on_record) in zip(
        CONFIRMATION_PATH, CONFIRMATION_PATH[1:], strict=False
    ):
        check_transition(current, target, on_institutions_record=on_record)


def test_the_move_on_the_record_is_never_an_ordinary_step() -> None:
    """Without being asked for, the move from review to a reply is refused as skipping the
    notice; the gates name what is missing."""
    with pytest.raises(IllegalTransition) as refused:
        check_transition(CaseState.IN_REVIEW, CaseState.REPLY_RECEIVED)
    assert GATES[CaseState.REPLY_RECEIVED] in refused.value.detail
    assert "institution's record" in GATES[CaseState.DETERMINED]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CaseState.RECEIVED, CaseState.REPLY_RECEIVED),
        (CaseState.ASSIGNED, CaseState.REPLY_RECEIVED),
        (CaseState.NOTICE_ISSUED, CaseState.REPLY_RECEIVED),
        (CaseState.REPLY_RECEIVED, CaseState.REPLY_RECEIVED),
        (CaseState.IN_REVIEW, CaseState.HEARING_CONCLUDED),
        (CaseState.IN_REVIEW, CaseState.DETERMINED),
        (CaseState.IN_REVIEW, CaseState.NOTICE_ISSUED),
        (CaseState.DISMISSED, CaseState.REPLY_RECEIVED),
    ],
)
def test_on_the_record_only_the_one_move_is_open_and_others_are_refused_naming_the_gate(
    current: CaseState, target: CaseState
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition(current, target, on_institutions_record=True)
    assert refused.value.status == 409
    assert ON_RECORD_GATE in refused.value.detail


def test_the_track_adds_a_move_without_changing_the_procedures_table() -> None:
    assert ON_RECORD_TRANSITIONS == {CaseState.IN_REVIEW: frozenset({CaseState.REPLY_RECEIVED})}
    assert not can_transition(CaseState.IN_REVIEW, CaseState.REPLY_RECEIVED)
    # The sweeps read the procedure's table: a reply on the record never lapses.
    assert states_leading_to(CaseState.REPLY_WINDOW_LAPSED) == {CaseState.NOTICE_ISSUED}


@given(st.lists(st.tuples(st.sampled_from(list(CaseState)), st.booleans()), max_size=30))
def test_no_sequence_on_the_confirmation_track_skips_the_reply_or_the_hearing(
    attempts: list[tuple[CaseState, bool]],
) -> None:
    """Apply any sequence of attempted moves, ordinary or on the institution's record, keeping
    the legal ones: whenever the case reaches 'determined', exactly one reply came before it
    (the employee's to a notice served, a lapsed window, or the institution's record accepted
    from review begun, with no notice), then a hearing held or waived."""
    state = CaseState.RECEIVED
    visited = [state]
    moves: list[tuple[CaseState, CaseState, bool]] = []
    for target, on_record in attempts:
        if can_transition(state, target, on_institutions_record=on_record):
            moves.append((state, target, on_record))
            state = target
            visited.append(state)
        if state == CaseState.DETERMINED:
            before = visited[: visited.index(CaseState.DETERMINED)]
            replied = [
                s for s in before if s in {CaseState.REPLY_RECEIVED, CaseState.REPLY_WINDOW_LAPSED}
            ]
            assert len(replied) == 1
            on_record_moves = [move for move in moves if move[2]]
            if on_record_moves:
                assert on_record_moves == [(CaseState.IN_REVIEW, CaseState.REPLY_RECEIVED, True)]
                assert CaseState.NOTICE_ISSUED not in before
            else:
                assert before.index(CaseState.NOTICE_ISSUED) < before.index(replied[0])
            assert before.index(replied[0]) < before.index(CaseState.HEARING_CONCLUDED)
        assert len(visited) == len(set(visited))
