"""A sanction's life as pure functions: which event may follow which state, the terms a run of
events leaves, what each event must and must not say, and the appeal window.

States and events:

    (none) --imposed--> in_force --stayed--> stayed
    in_force --varied--> in_force          stayed --varied--> in_force (the stay ends)
    in_force | stayed --quashed--> quashed
    in_force --spent--> spent
    spent | quashed --expunged--> expunged  (final)

An imposition and a variation state the penalty as the order leaves it (a code from the
penalties catalogue, and the period in months for a time-bound penalty). The other events
change the state only. No database here: the service loads the events and the catalogue.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from services.registry.ledger.models import SanctionEventName
from services.registry.sanctions.errors import SanctionEventNotAllowed
from shared.errors import FieldProblem

SanctionState = Literal["in_force", "stayed", "quashed", "spent", "expunged"]

TRANSITIONS: Mapping[tuple[SanctionState | None, SanctionEventName], SanctionState] = {
    (None, "imposed"): "in_force",
    ("in_force", "stayed"): "stayed",
    ("in_force", "varied"): "in_force",
    ("stayed", "varied"): "in_force",
    ("in_force", "quashed"): "quashed",
    ("stayed", "quashed"): "quashed",
    ("in_force", "spent"): "spent",
    ("spent", "expunged"): "expunged",
    ("quashed", "expunged"): "expunged",
}

# Why a state admits only what it admits, in the words a refusal gives.
WHY_NOT: Mapping[SanctionState, str] = {
    "in_force": "a sanction in force can be stayed, varied, quashed or spent; it is expunged "
    "only once spent or quashed",
    "stayed": "a stayed sanction is suspended, so it cannot run its course; it can be varied "
    "(which ends the stay) or quashed",
    "quashed": "a quashed sanction has no effect left to stay, vary or run its course; it can "
    "only be expunged",
    "spent": "a spent sanction has run its course; it can only be expunged",
    "expunged": "an expunged sanction is closed and nothing follows it",
}

# The events whose order states the penalty (and its period, if time-bound).
SETS_PENALTY: frozenset[SanctionEventName] = frozenset({"imposed", "varied"})


@dataclass(frozen=True)
class EventFacts:
    """What the lifecycle needs of one recorded event."""

    event: SanctionEventName
    penalty_code: str | None
    penalty_catalogue_version: int | None
    period_months: int | None
    order_date: date


@dataclass(frozen=True)
class SanctionTerms:
    """Where a run of events leaves a sanction."""

    state: SanctionState
    penalty_code: str
    penalty_catalogue_version: int
    period_months: int | None
    # The latest order's date: a later order cannot predate it.
    last_order_date: date


def next_state(
    current: SanctionState | None, event: SanctionEventName, *, sanction_id: uuid.UUID | None
) -> SanctionState:
    """The state after the event, or SanctionEventNotAllowed saying why not."""
    following = TRANSITIONS.get((current, event))
    if following is not None:
        return following
    if current is None:
        raise SanctionEventNotAllowed(f"A sanction begins with its imposition, not '{event}'.")
    raise SanctionEventNotAllowed(
        f"Sanction {sanction_id} is {current.replace('_', ' ')}; it cannot be {event}: "
        f"{WHY_NOT[current]}."
    )


def fold(events: Iterable[EventFacts], *, sanction_id: uuid.UUID) -> SanctionTerms:
    """Replay a sanction's events in ledger order into its terms."""
    terms: SanctionTerms | None = None
    for facts in events:
        state = next_state(terms.state if terms else None, facts.event, sanction_id=sanction_id)
        if facts.event in SETS_PENALTY:
            assert facts.penalty_code is not None and facts.penalty_catalogue_version is not None
            terms = SanctionTerms(
                state=state,
                penalty_code=facts.penalty_code,
                penalty_catalogue_version=facts.penalty_catalogue_version,
                period_months=facts.period_months,
                last_order_date=facts.order_date,
            )
        else:
            assert terms is not None, "next_state lets only an imposition begin a sanction"
            terms = SanctionTerms(
                state=state,
                penalty_code=terms.penalty_code,
                penalty_catalogue_version=terms.penalty_catalogue_version,
                period_months=terms.period_months,
                last_order_date=facts.order_date,
            )
    if terms is None:
        raise ValueError(f"sanction {sanction_id} has no events")
    return terms


def shape_problems(
    *,
    event: SanctionEventName,
    sanction_id: uuid.UUID | None,
    penalty_code: str | None,
    period_months: int | None,
) -> list[FieldProblem]:
    """What the event must and must not name, whatever the sanction's state."""
    problems: list[FieldProblem] = []
    if event == "imposed" and sanction_id is not None:
        problems.append(
            FieldProblem(
                field="sanction_id",
                message="An imposition begins a new sanction, whose id is assigned: omit it.",
            )
        )
    if event != "imposed" and sanction_id is None:
        problems.append(
            FieldProblem(
                field="sanction_id",
                message=f"Name the sanction that is {event} (its id, from its imposition).",
            )
        )
    if event in SETS_PENALTY and penalty_code is None:
        problems.append(
            FieldProblem(
                field="penalty_code",
                message=f"Required when {event}: the penalty as the order leaves it, a code "
                "from GET /v1/catalogue/penalties.",
            )
        )
    if event not in SETS_PENALTY:
        for field, given in (("penalty_code", penalty_code), ("period_months", period_months)):
            if given is not None:
                problems.append(
                    FieldProblem(
                        field=field,
                        message=f"A sanction {event} keeps its penalty: omit {field} (a "
                        "variation changes the penalty).",
                    )
                )
    return problems


def period_problems(
    *, penalty_code: str, time_bound: bool, period_months: int | None
) -> list[FieldProblem]:
    """A time-bound penalty needs its period; any other penalty refuses one."""
    if time_bound and period_months is None:
        return [
            FieldProblem(
                field="period_months",
                message=f"{penalty_code} is time-bound: give its period in months.",
            )
        ]
    if not time_bound and period_months is not None:
        return [
            FieldProblem(
                field="period_months",
                message=f"{penalty_code} is not time-bound: omit period_months.",
            )
        ]
    return []


def appeal_window_last_day(effective_on: date, *, appeal_window_days: int) -> date | None:
    """The last day of a violation's appeal window, or None when there is no window.

    The appeal window here is the time the employee has to appeal a violation finding before
    any sanction may be ordered on it: `appeal_window_days` calendar days counted from the
    day after the violation's effective_on (the day of the finding itself is not counted),
    ending with the last of them. The registry does not record appeals yet, so it cannot know
    whether one was filed; it assumes one may be and refuses any sanction ordered on or before
    the last day. A window of 0 days means none.
    """
    if appeal_window_days <= 0:
        return None
    return effective_on + timedelta(days=appeal_window_days)
