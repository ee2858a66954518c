"""intake's replica of the rules catalogue, so alleged rules are checked locally."""

from __future__ import annotations

from services.intake.base import IntakeBase
from shared.catalogue_replica import RuleReferenceColumns


class RuleReference(RuleReferenceColumns, IntakeBase):
    pass
