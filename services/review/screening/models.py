"""The protected-disclosure screen of a case: the assigned member's answer and note to each of
the four questions, and the outcome (proceed, dismiss, or a confidential channel); and how a case
left the confidential channel."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase

ScreenOutcome = Literal["proceed", "dismiss", "confidential_channel"]
# The questions, in the order they are asked and written on the case's history.
SCREEN_QUESTIONS: dict[str, str] = {
    "whistleblowing": "Is it whistleblowing on wrongdoing?",
    "public_interest": "Was it said in the public interest?",
    "private_capacity": "Was it said in a private capacity?",
    "already_public": "Is it about information already public?",
}


class DisclosureScreen(ReviewBase):
    """One per case, before any charge goes forward; never rewritten."""

    __tablename__ = "disclosure_screen"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    whistleblowing: Mapped[bool] = mapped_column(Boolean)
    whistleblowing_note: Mapped[str] = mapped_column(Text)
    public_interest: Mapped[bool] = mapped_column(Boolean)
    public_interest_note: Mapped[str] = mapped_column(Text)
    private_capacity: Mapped[bool] = mapped_column(Boolean)
    private_capacity_note: Mapped[str] = mapped_column(Text)
    already_public: Mapped[bool] = mapped_column(Boolean)
    already_public_note: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(24))
    reasons: Mapped[str | None] = mapped_column(Text)
    screened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    screened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConfidentialOutcome(ReviewBase):
    """How a case left the confidential channel, recorded by the chair of its unit: referred
    to the competent protected-disclosure authority (`authority`, `reference`), returned to the
    normal track after the chair's re-screening (`rescreen`: the four answers, each with a
    note), or dismissed; always with reasons. One per case; never rewritten."""

    __tablename__ = "confidential_outcome"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    authority: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(200))
    reasons: Mapped[str] = mapped_column(Text)
    rescreen: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
