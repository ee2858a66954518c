"""What a permission case holds besides the case row: the request as the portal sent it, and the
unit's decision.

A permission case is a `Case` of kind "permission", so assignment, history, escalation and the
portal's status announcements work on it unchanged; the case row carries the department, the
platform, the applicant as its subject (empty for an official account, which has none) and the
purpose as its excerpt. What only a permission has lives here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class PermissionApplication(ReviewBase):
    """The request a permission case decides."""

    __tablename__ = "permission_application"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_handle: Mapped[str] = mapped_column(String(200))
    account_url: Mapped[str | None] = mapped_column(String(2048))
    purpose: Mapped[str] = mapped_column(Text)
    account_purpose: Mapped[str | None] = mapped_column(String(32))
    # As the contract carries them (shared.messages AccountModerator, PermissionApplicant).
    moderators: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    applicant: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    renewal_of: Mapped[uuid.UUID | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PermissionDecisionRecord(ReviewBase):
    """The assignee's decision: granted (perhaps with conditions) for a period, or refused,
    with reasons. One per case."""

    __tablename__ = "permission_decision"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    valid_from: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the case's history was told the grant is nearing its expiry (renewal reminder).
    renewal_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
