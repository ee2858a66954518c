"""A monitoring unit's meetings: when it met, who attended, what was on the agenda and what it
decided. Minutes are a record: written once, never edited (a correction is a later meeting's
decision)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, Uuid, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class UnitMeeting(ReviewBase):
    __tablename__ = "unit_meeting"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_unit.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    # Members of the unit present, and anyone else present (by name and capacity).
    attendee_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    guests: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    agenda: Mapped[str] = mapped_column(Text)
    decisions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
