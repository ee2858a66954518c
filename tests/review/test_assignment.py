"""Who gets a case: conflicts of interest are never chosen, the load rule holds, and the same
inputs always give the same choice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.review.cases.assignment import (
    Candidate,
    CaseParties,
    choose_assignee,
    conflicts_of_interest,
)
from shared.pseudonyms import pseudonym

KEY = "test-key"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def candidate(index: int, **overrides: object) -> Candidate:
    values: dict[str, object] = {
        "member_id": uuid.UUID(int=index + 1),
        "employee_ref": f"EMP-{index}",
        "office": f"Office {index}",
        "role": "member",
        "active": True,
        "on_leave": False,
        "open_cases": 0,
        "last_assigned_at": None,
    }
    values.update(overrides)
    return Candidate(**values)  # type: ignore[arg-type]  # test builder over the dataclass


def parties(**overrides: str) -> CaseParties:
    values = {
        "subject_employee_ref": "EMP-SUBJECT",
        "subject_office": "Subject Office",
        "reporter_ref": pseudonym(KEY, kind="employee", value="EMP-REPORTER"),
        "reporter_office_ref": pseudonym(KEY, kind="office", value="Reporter Office"),
    }
    values.update(overrides)
    return CaseParties(**values)


def test_fewest_open_cases_wins() -> None:
    chosen = choose_assignee(
        [candidate(0, open_cases=3), candidate(1, open_cases=1), candidate(2, open_cases=2)],
        parties(),
        pseudonym_key=KEY,
    )
    assert chosen is not None and chosen.employee_ref == "EMP-1"


def test_tie_goes_to_the_longest_idle() -> None:
    chosen = choose_assignee(
        [
            candidate(0, open_cases=1, last_assigned_at=T0),
            candidate(1, open_cases=1, last_assigned_at=T0 - timedelta(days=2)),
            candidate(2, open_cases=1, last_assigned_at=T0 - timedelta(days=1)),
        ],
        parties(),
        pseudonym_key=KEY,
    )
    assert chosen is not None and chosen.employee_ref == "EMP-1"


def test_the_subject_the_reporter_and_their_offices_are_never_chosen() -> None:
    conflicted = [
        candidate(0, employee_ref="EMP-SUBJECT"),
        candidate(1, office="subject  office"),
        candidate(2, employee_ref="EMP-REPORTER"),
        candidate(3, office="Reporter Office"),
    ]
    assert choose_assignee(conflicted, parties(), pseudonym_key=KEY) is None
    reasons = [conflicts_of_interest(c, parties(), pseudonym_key=KEY) for c in conflicted]
    assert reasons == [
        ["is the subject"],
        ["works in the subject's office"],
        ["is the reporter"],
        ["works in the reporter's office"],
    ]


def test_inactive_on_leave_and_the_chair_are_not_assigned() -> None:
    people = [
        candidate(0, active=False),
        candidate(1, on_leave=True),
        candidate(2, role="chair"),
        candidate(3, open_cases=9),
    ]
    chosen = choose_assignee(people, parties(), pseudonym_key=KEY)
    assert chosen is not None and chosen.employee_ref == "EMP-3"


candidates_strategy = st.lists(
    st.builds(
        candidate,
        st.integers(min_value=0, max_value=50),
        open_cases=st.integers(min_value=0, max_value=5),
        employee_ref=st.sampled_from(["EMP-SUBJECT", "EMP-REPORTER", "EMP-A", "EMP-B", "EMP-C"]),
        office=st.sampled_from(["Subject Office", "Reporter Office", "Office A", "Office B"]),
        on_leave=st.booleans(),
        last_assigned_at=st.none() | st.just(T0),
    ),
    max_size=8,
    unique_by=lambda c: c.member_id,
)


@given(candidates_strategy)
def test_choice_is_conflict_free_least_loaded_and_repeatable(people: list[Candidate]) -> None:
    chosen = choose_assignee(people, parties(), pseudonym_key=KEY)
    again = choose_assignee(list(reversed(people)), parties(), pseudonym_key=KEY)
    assert chosen == again
    eligible = [
        c
        for c in people
        if not c.on_leave and not conflicts_of_interest(c, parties(), pseudonym_key=KEY)
    ]
    if not eligible:
        assert chosen is None
        return
    assert chosen is not None
    assert not conflicts_of_interest(chosen, parties(), pseudonym_key=KEY)
    assert chosen.open_cases == min(c.open_cases for c in eligible)


def test_nobody_in_the_subjects_chain_of_command_is_chosen() -> None:
    boss = candidate(0, employee_ref="BOSS")
    junior = candidate(1, employee_ref="JUNIOR", supervisors=frozenset({"EMP-SUBJECT", "BOSS"}))
    unrelated = candidate(2, employee_ref="OTHER", open_cases=5)
    case = CaseParties(
        subject_employee_ref="EMP-SUBJECT",
        subject_office="Subject Office",
        reporter_ref=pseudonym(KEY, kind="employee", value="EMP-REPORTER"),
        reporter_office_ref=pseudonym(KEY, kind="office", value="Reporter Office"),
        subject_supervisors=frozenset({"BOSS", "TOP"}),
    )
    assert conflicts_of_interest(boss, case, pseudonym_key=KEY) == [
        "is above the subject in their chain of command"
    ]
    assert conflicts_of_interest(junior, case, pseudonym_key=KEY) == [
        "is below the subject in their chain of command"
    ]
    # The least loaded two are both in the chain: the busier outsider gets the case.
    assert choose_assignee([boss, junior, unrelated], case, pseudonym_key=KEY) == unrelated
