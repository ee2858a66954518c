"""An appeal against a recorded violation: filed (grounds, the day it was filed, who recorded
it) and, once the appellate authority decides it, the outcome with its reasons. One appeal per
case: the decision is final within review, and a further remedy lies outside this system."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class Appeal(ReviewBase):
    __tablename__ = "appeal"
    __table_args__ = (
        CheckConstraint("outcome IN ('upheld', 'modified', 'set_aside')", name="outcome"),
        # A decision is whole: outcome, reasons, who and when, or none of them.
        CheckConstraint(
            "(outcome IS NULL AND decision_reasons IS NULL AND decided_by IS NULL AND "
            "decided_at IS NULL) OR (outcome IS NOT NULL AND decision_reasons IS NOT NULL AND "
            "decided_by IS NOT NULL AND decided_at IS NOT NULL)",
            name="decision_complete",
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    grounds: Mapped[str] = mapped_column(Text)
    filed_on: Mapped[date] = mapped_column(Date)
    # The unit's secretary or chair, who records the appeal the employee filed.
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    # Modified only: the rules the finding stands on after the appeal, and its restated finding.
    modified_rules_cited: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    modified_finding: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
