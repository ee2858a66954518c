"""review's replicas of the catalogues: the rules (reply windows, and the clauses a charge or a
finding may cite) and the penalties a determination may recommend."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase
from shared.catalogue_replica import RuleReferenceColumns


class RuleReference(RuleReferenceColumns, ReviewBase):
    pass


class PenaltyReference(ReviewBase):
    """A penalty of the Efficiency and Discipline Rules 2020, as registry's penalties catalogue
    lists it (same codes). Seeded with version 1 by migration review_0008: registry does not
    publish penalty versions over the queue yet, and a recommendation is checked again by
    registry when the competent authority imposes a sanction."""

    __tablename__ = "penalty_reference"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    penalty_class: Mapped[str] = mapped_column(String(8))
    catalogue_version: Mapped[int] = mapped_column(Integer)
