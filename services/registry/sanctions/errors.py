"""Why the registry refuses a sanction event."""

from __future__ import annotations

from shared.errors import Conflict, InvalidInput


class PenaltyNotInCatalogue(InvalidInput):
    code = "penalty-not-in-catalogue"
    title = "The penalty is not in the penalties catalogue"


class UnknownSanction(InvalidInput):
    code = "unknown-sanction"
    title = "The violation has no such sanction"


class SanctionEventNotAllowed(Conflict):
    """The event does not follow from the sanction's current state (a quashed sanction cannot
    be spent, an expunged one cannot be stayed...)."""

    code = "sanction-event-not-allowed"
    title = "The event does not follow from the sanction's current state"


class DuplicateOrderReference(Conflict):
    code = "duplicate-order-reference"
    title = "An event with this order reference is already recorded for the violation"


class AppealWindowOpen(Conflict):
    code = "appeal-window-open"
    title = "The violation's appeal window is still open"
