"""The sanction lifecycle's pure functions: which event follows which state, the terms a run of
events leaves, what each event must name, the period rule and the appeal window."""

from __future__ import annotations

import uuid
from datetime import date
from typing import get_args

import pytest

from services.registry.ledger.models import SANCTION_EVENTS, SanctionEventName
from services.registry.sanctions.errors import SanctionEventNotAllowed
from services.registry.sanctions.lifecycle import (
    TRANSITIONS,
    EventFacts,
    SanctionState,
    appeal_window_last_day,
    fold,
    next_state,
    period_problems,
    shape_problems,
)

SANCTION = uuid.UUID(int=7)
STATES: tuple[SanctionState, ...] = get_args(SanctionState)
ALLOWED: dict[SanctionState | None, set[SanctionEventName]] = {
    None: {"imposed"},
    "in_force": {"stayed", "varied", "quashed", "spent"},
    "stayed": {"varied", "quashed"},
    "quashed": {"expunged"},
    "spent": {"expunged"},
    "expunged": set(),
}


def facts(
    event: SanctionEventName,
    *,
    on: date = date(2026, 6, 1),
    penalty_code: str | None = None,
    period_months: int | None = None,
) -> EventFacts:
    return EventFacts(
        event=event,
        penalty_code=penalty_code,
        penalty_catalogue_version=1 if penalty_code else None,
        period_months=period_months,
        order_date=on,
    )


def test_the_transition_table_is_exactly_the_documented_one() -> None:
    assert {(state, event) for state, events in ALLOWED.items() for event in events} == set(
        TRANSITIONS
    )


@pytest.mark.parametrize("state", [None, *STATES])
@pytest.mark.parametrize("event", SANCTION_EVENTS)
def test_every_state_and_event_is_allowed_or_refused_with_a_reason(
    state: SanctionState | None, event: SanctionEventName
) -> None:
    if event in ALLOWED[state]:
        assert next_state(state, event, sanction_id=SANCTION) in STATES
        return
    with pytest.raises(SanctionEventNotAllowed) as refused:
        next_state(state, event, sanction_id=SANCTION)
    assert refused.value.status == 409
    if state is not None:
        assert f"cannot be {event}" in refused.value.detail
        assert state.replace("_", " ") in refused.value.detail


def test_spent_on_a_quashed_sanction_says_why() -> None:
    with pytest.raises(SanctionEventNotAllowed) as refused:
        next_state("quashed", "spent", sanction_id=SANCTION)
    assert refused.value.detail == (
        f"Sanction {SANCTION} is quashed; it cannot be spent: a quashed sanction has no effect "
        "left to stay, vary or run its course; it can only be expunged."
    )


def test_a_stay_then_a_variation_puts_the_varied_penalty_in_force() -> None:
    terms = fold(
        [
            facts("imposed", penalty_code="ED2020-WITHHOLD-INCREMENT", period_months=24),
            facts("stayed", on=date(2026, 6, 10)),
            facts(
                "varied",
                on=date(2026, 7, 1),
                penalty_code="ED2020-WITHHOLD-INCREMENT",
                period_months=12,
            ),
        ],
        sanction_id=SANCTION,
    )
    assert (terms.state, terms.penalty_code, terms.period_months) == (
        "in_force",
        "ED2020-WITHHOLD-INCREMENT",
        12,
    )
    assert terms.last_order_date == date(2026, 7, 1)


def test_events_that_do_not_set_the_penalty_keep_it() -> None:
    terms = fold(
        [
            facts("imposed", penalty_code="ED2020-CENSURE"),
            facts("spent", on=date(2026, 9, 1)),
            facts("expunged", on=date(2027, 9, 1)),
        ],
        sanction_id=SANCTION,
    )
    assert (terms.state, terms.penalty_code, terms.period_months) == (
        "expunged",
        "ED2020-CENSURE",
        None,
    )
    assert terms.last_order_date == date(2027, 9, 1)


def test_a_history_that_breaks_the_lifecycle_does_not_fold() -> None:
    # A quashed sanction then spent: the ledger could only hold this if written around the
    # service; folding it refuses rather than invent a state.
    with pytest.raises(SanctionEventNotAllowed):
        fold(
            [facts("imposed", penalty_code="ED2020-CENSURE"), facts("quashed"), facts("spent")],
            sanction_id=SANCTION,
        )
    with pytest.raises(ValueError, match="no events"):
        fold([], sanction_id=SANCTION)


def fields_at_fault(**given: object) -> list[str]:
    arguments: dict[str, object] = {
        "sanction_id": None,
        "penalty_code": None,
        "period_months": None,
    } | given
    return [problem.field for problem in shape_problems(**arguments)]


@pytest.mark.parametrize(
    ("given", "fault"),
    [
        # Tried: an imposition naming a sanction, and one naming no penalty.
        ({"event": "imposed", "sanction_id": SANCTION, "penalty_code": "X"}, ["sanction_id"]),
        ({"event": "imposed"}, ["penalty_code"]),
        # Tried: a later event without its sanction; a variation without the varied penalty.
        ({"event": "stayed"}, ["sanction_id"]),
        ({"event": "varied", "sanction_id": SANCTION}, ["penalty_code"]),
        # Tried: events that keep the penalty but name one, or a period.
        ({"event": "quashed", "sanction_id": SANCTION, "penalty_code": "X"}, ["penalty_code"]),
        ({"event": "spent", "sanction_id": SANCTION, "period_months": 6}, ["period_months"]),
        (
            {"event": "expunged", "penalty_code": "X", "period_months": 6},
            ["sanction_id", "penalty_code", "period_months"],
        ),
    ],
)
def test_shape_problems_name_each_field_at_fault(
    given: dict[str, object], fault: list[str]
) -> None:
    assert fields_at_fault(**given) == fault


@pytest.mark.parametrize(
    "given",
    [
        {"event": "imposed", "penalty_code": "X", "period_months": 6},
        {"event": "varied", "sanction_id": SANCTION, "penalty_code": "X"},
        {"event": "stayed", "sanction_id": SANCTION},
    ],
)
def test_well_formed_events_have_no_shape_problems(given: dict[str, object]) -> None:
    assert fields_at_fault(**given) == []


def test_a_period_goes_with_time_bound_penalties_only() -> None:
    missing = period_problems(
        penalty_code="ED2020-WITHHOLD-PROMOTION", time_bound=True, period_months=None
    )
    assert [p.field for p in missing] == ["period_months"]
    assert "time-bound" in missing[0].message
    extra = period_problems(penalty_code="ED2020-DISMISSAL", time_bound=False, period_months=12)
    assert [p.field for p in extra] == ["period_months"]
    assert "not time-bound" in extra[0].message
    assert period_problems(penalty_code="P", time_bound=True, period_months=12) == []
    assert period_problems(penalty_code="P", time_bound=False, period_months=None) == []


def test_the_appeal_window_counts_calendar_days_after_the_effective_date() -> None:
    # Effective 1 November: 30 days counted from 2 November end on 1 December.
    assert appeal_window_last_day(date(2026, 11, 1), appeal_window_days=30) == date(2026, 12, 1)
    assert appeal_window_last_day(date(2026, 2, 15), appeal_window_days=14) == date(2026, 3, 1)
    assert appeal_window_last_day(date(2026, 11, 1), appeal_window_days=0) is None
