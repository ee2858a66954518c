"""A department's (or institution's) roster: who its employees are, where they serve and whom
they report to. review reads it for one conflict of interest: nobody investigates someone in
their own chain of command, above or below them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class RosterEntry(ReviewBase):
    __tablename__ = "roster_entry"

    organisation_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    designation: Mapped[str] = mapped_column(String(200))
    office: Mapped[str] = mapped_column(String(200))
    # The employee_ref of the supervisor in the same organisation; none at the top.
    reports_to: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
