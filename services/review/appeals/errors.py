"""Why review refuses to record an appeal or its decision."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, NotFound


class NotAppealClerk(Forbidden):
    code = "not-appeal-clerk"
    title = "Only the secretary or the chair of the case's unit may record an appeal"


class NotAppellateAuthority(Forbidden):
    code = "not-appellate-authority"
    title = "Only an appellate authority of the case's unit may decide an appeal"


class AppealSeparationOfDuties(Forbidden):
    code = "separation-of-duties"
    title = (
        "The investigator, the countersigning chair and the appeal's decider must be three "
        "different people"
    )


class AppealGateNotMet(Conflict):
    code = "appeal-gate"
    title = "The case cannot take this appeal step now"


class AppealNotFound(NotFound):
    code = "appeal-not-found"
    title = "The case has no appeal"
