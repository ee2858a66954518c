"""Why review refuses a change to charges or a notice without them."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class ChargeNotFound(NotFound):
    code = "charge-not-found"
    title = "No such charge on this case"


class ChargesFrozen(Conflict):
    code = "charges-frozen"
    title = "Charges change only before the notice is served"


class NoCharges(Conflict):
    code = "no-charges"
    title = "A notice is generated from the charges, and the case has none"


class NoNotice(Conflict):
    code = "no-notice"
    title = "No notice has been served on this case"


class DisclosureClosed(Conflict):
    code = "evidence-disclosure-closed"
    title = "Evidence is cleared for disclosure only before the notice is served"


class EvidenceReliedOn(Conflict):
    code = "evidence-relied-on"
    title = "An item a charge relies on cannot be withheld from the employee"


class EvidenceNotCleared(Conflict):
    code = "evidence-not-cleared"
    title = "Every item the charges rely on must be cleared for disclosure before the notice"
