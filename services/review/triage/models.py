"""The permission check at triage: what registry answered, for each report case, to "was the
subject permitted to use this account on the post's date?"."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase

PermissionCheckStatus = Literal["pending", "permitted", "not_permitted", "unknown"]


class PermissionCheck(ReviewBase):
    """One per report case, written with the case (pending) and answered by the worker."""

    __tablename__ = "permission_check"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    # Why the answer is what it is, in words (which grant, or why it is unknown).
    reason: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(16))
    account_handles: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    # The date asked about: the post's date (None when the report gives none).
    checked_on: Mapped[date | None] = mapped_column(Date)
    # The registry's permission record that covered the account, when permitted.
    record_id: Mapped[uuid.UUID | None] = mapped_column()
    record_kind: Mapped[str | None] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
