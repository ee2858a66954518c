"""An institution's finding on a case: what a Medical Teaching Institution's violator-list row
said (its reference, rule, platform, finding and date), and whether the unit accepted the
institution's record of notice and reply in place of a notice of its own."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class InstitutionalFinding(ReviewBase):
    """The institution's allegation behind an institutional-finding case: one row of its
    violator list. An allegation for the unit to confirm, never a verdict."""

    __tablename__ = "institutional_finding"
    __table_args__ = (
        CheckConstraint(
            "(record_accepted_at IS NULL AND record_accepted_by IS NULL) OR "
            "(record_accepted_at IS NOT NULL AND record_accepted_by IS NOT NULL "
            "AND notice_and_reply_on_record)",
            name="record_accepted_only_when_on_record",
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    batch_id: Mapped[uuid.UUID] = mapped_column()
    row_number: Mapped[int] = mapped_column(Integer)
    institution: Mapped[str] = mapped_column(String(64), index=True)
    institution_finding_ref: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    finding: Mapped[str] = mapped_column(Text)
    found_on: Mapped[date] = mapped_column(Date)
    # What the institution's row says: its own record shows notice given and a reply.
    notice_and_reply_on_record: Mapped[bool] = mapped_column(Boolean)
    # When and by whom the unit accepted that record instead of serving a notice (the case's
    # history has the event too).
    record_accepted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    record_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
