"""Why registry refuses an appeal outcome."""

from __future__ import annotations

from shared.errors import Conflict


class ConflictingAppealOutcome(Conflict):
    """A second, different appeal outcome for a case whose appeal the ledger already holds."""

    code = "conflicting-appeal-outcome"
    title = "The case already has a different recorded appeal outcome"


class NoViolationToAppeal(Conflict):
    """The case has no current violation version for an appeal outcome to act on."""

    code = "no-violation-to-appeal"
    title = "The case has no current violation in the ledger"
