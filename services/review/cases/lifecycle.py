"""The case life cycle (DESIGN.md): which state may follow which, and the gate each move needs.

Pure: no database. The service asks `check_transition` before every move, so an illegal
sequence is refused with 409 naming the gate rather than leaving a case in a state the
procedure does not allow.
"""

from __future__ import annotations

from enum import StrEnum

from shared.errors import Conflict


class CaseState(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_REVIEW = "in_review"
    NOTICE_ISSUED = "notice_issued"
    REPLY_RECEIVED = "reply_received"
    REPLY_WINDOW_LAPSED = "reply_window_lapsed"
    HEARING_CONCLUDED = "hearing_concluded"
    DETERMINED = "determined"
    RECORDED = "recorded"
    APPEALED = "appealed"
    APPEAL_DECIDED = "appeal_decided"
    CLOSED = "closed"
    DISMISSED = "dismissed"
    # The protected-disclosure screen routed the case off the normal track, to the chair.
    CONFIDENTIAL_CHANNEL = "confidential_channel"


# Cases in these states no longer count towards a member's load. An appealed case is the
# appellate authority's (services/review/appeals), not the investigator's.
FINISHED_STATES = frozenset(
    {
        CaseState.RECORDED,
        CaseState.APPEALED,
        CaseState.CLOSED,
        CaseState.DISMISSED,
        CaseState.APPEAL_DECIDED,
        CaseState.CONFIDENTIAL_CHANNEL,
    }
)

TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.RECEIVED: frozenset({CaseState.ASSIGNED}),
    CaseState.ASSIGNED: frozenset({CaseState.IN_REVIEW}),
    CaseState.IN_REVIEW: frozenset(
        {CaseState.NOTICE_ISSUED, CaseState.DISMISSED, CaseState.CONFIDENTIAL_CHANNEL}
    ),
    CaseState.NOTICE_ISSUED: frozenset({CaseState.REPLY_RECEIVED, CaseState.REPLY_WINDOW_LAPSED}),
    CaseState.REPLY_RECEIVED: frozenset({CaseState.HEARING_CONCLUDED}),
    CaseState.REPLY_WINDOW_LAPSED: frozenset({CaseState.HEARING_CONCLUDED}),
    CaseState.HEARING_CONCLUDED: frozenset({CaseState.DETERMINED}),
    CaseState.DETERMINED: frozenset({CaseState.RECORDED}),
    CaseState.RECORDED: frozenset({CaseState.APPEALED, CaseState.CLOSED}),
    CaseState.APPEALED: frozenset({CaseState.APPEAL_DECIDED}),
    CaseState.APPEAL_DECIDED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
    CaseState.DISMISSED: frozenset(),
    CaseState.CONFIDENTIAL_CHANNEL: frozenset(),
}

# What must have happened before a case may enter a state: the reason given when it has not.
GATES: dict[CaseState, str] = {
    CaseState.ASSIGNED: "the case must be waiting for assignment",
    CaseState.IN_REVIEW: "the case must be assigned to a member",
    CaseState.NOTICE_ISSUED: "review must have begun and no notice been served yet",
    CaseState.REPLY_RECEIVED: "a notice must have been served and be awaiting a reply",
    CaseState.REPLY_WINDOW_LAPSED: "a notice must have been served and be awaiting a reply",
    CaseState.HEARING_CONCLUDED: (
        "the employee's reply must have been received or the reply window closed, and no "
        "hearing recorded yet"
    ),
    CaseState.DETERMINED: (
        "a notice must have been served (or an institution's record of notice and reply "
        "accepted), the employee's reply received or the reply window closed, and a hearing "
        "held or waived"
    ),
    CaseState.RECORDED: "a final determination must have been made",
    CaseState.DISMISSED: "the case must be in review, before any notice",
    CaseState.APPEALED: "the determination must have been recorded",
    CaseState.APPEAL_DECIDED: "an appeal must have been filed",
    CaseState.CLOSED: "the case must be recorded or its appeal decided",
    CaseState.CONFIDENTIAL_CHANNEL: "the case must be in review, before any notice",
}


# The confirmation track of an institution's finding (an MTI's violator-list row): when the
# institution's own record shows the employee was given notice and replied, the member may
# accept that record instead of serving a second notice, and the case goes on to the hearing.
# These moves are open only to such a case, and only when asked for explicitly (the caller
# vouches for the record and writes it on the history): the ordinary steps never take them.
ON_RECORD_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.IN_REVIEW: frozenset({CaseState.REPLY_RECEIVED}),
}
ON_RECORD_GATE = (
    "review must have begun with no notice served, and the institution's record must show that "
    "the employee was given notice and replied"
)
# The way out of the confidential channel: the chair of the case's unit closes it with a recorded
# outcome (services/review/screening/channel.py): referred to the competent protected-disclosure
# authority (closed), dismissed with reasons, or returned to the normal track after re-screening
# (back in review, before any notice). Like the confirmation track's move, these are open only
# when asked for explicitly: no ordinary step takes a case out of the channel.
CONFIDENTIAL_EXITS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.CONFIDENTIAL_CHANNEL: frozenset(
        {CaseState.CLOSED, CaseState.DISMISSED, CaseState.IN_REVIEW}
    ),
}
CONFIDENTIAL_EXIT_GATE = (
    "the case must be in the confidential channel, which only its unit's chair closes, with a "
    "recorded outcome"
)
# A permission request is decided, not tried: no notice, reply or hearing. Its decision moves
# it from review to 'determined'; registry's record then moves it on as for any case.
PERMISSION_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    **{state: frozenset() for state in CaseState},
    CaseState.RECEIVED: frozenset({CaseState.ASSIGNED}),
    CaseState.ASSIGNED: frozenset({CaseState.IN_REVIEW}),
    CaseState.IN_REVIEW: frozenset({CaseState.DETERMINED}),
    CaseState.DETERMINED: frozenset({CaseState.RECORDED}),
    CaseState.RECORDED: frozenset({CaseState.CLOSED}),
}
PERMISSION_GATES: dict[CaseState, str] = {
    **GATES,
    CaseState.DETERMINED: "the request must be under review and not yet decided",
    CaseState.CLOSED: "the decision must be recorded",
}
# Case kinds with a life cycle of their own; every other kind follows the due process above.
LIFE_CYCLES: dict[str, tuple[dict[CaseState, frozenset[CaseState]], dict[CaseState, str]]] = {
    "permission": (PERMISSION_TRANSITIONS, PERMISSION_GATES),
}


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "The procedure does not allow this step now"


def can_transition(
    current: CaseState,
    target: CaseState,
    *,
    kind: str = "report",
    on_institutions_record: bool = False,
    leaving_confidential_channel: bool = False,
) -> bool:
    """Whether the case's life cycle (by its kind) allows this move; with
    `on_institutions_record`, whether the confirmation track's move on the institution's record
    of notice and reply allows it; with `leaving_confidential_channel`, whether the chair's
    way out of the confidential channel does."""
    if on_institutions_record:
        return target in ON_RECORD_TRANSITIONS.get(current, frozenset())
    if leaving_confidential_channel:
        return kind != "permission" and target in CONFIDENTIAL_EXITS.get(current, frozenset())
    transitions, _ = LIFE_CYCLES.get(kind, (TRANSITIONS, GATES))
    return target in transitions[current]


def states_leading_to(target: CaseState) -> frozenset[CaseState]:
    """The states from which a case may move to `target`: what a set-based sweep selects."""
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


def check_transition(
    current: CaseState,
    target: CaseState,
    *,
    kind: str = "report",
    on_institutions_record: bool = False,
    leaving_confidential_channel: bool = False,
) -> None:
    if not can_transition(
        current,
        target,
        kind=kind,
        on_institutions_record=on_institutions_record,
        leaving_confidential_channel=leaving_confidential_channel,
    ):
        _, gates = LIFE_CYCLES.get(kind, (TRANSITIONS, GATES))
        if on_institutions_record:
            gate = ON_RECORD_GATE
        elif leaving_confidential_channel:
            gate = CONFIDENTIAL_EXIT_GATE
        else:
            gate = gates[target]
        raise IllegalTransition(f"A case in state '{current}' cannot move to '{target}': {gate}.")
