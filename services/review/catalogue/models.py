"""review's replica of the rules catalogue: reply windows and the rules a finding may cite."""

from __future__ import annotations

from services.review.base import ReviewBase
from shared.catalogue_replica import RuleReferenceColumns


class RuleReference(RuleReferenceColumns, ReviewBase):
    pass
