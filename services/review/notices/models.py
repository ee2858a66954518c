"""The employee's side of a notice in review: its delivery to the department's portal and the
receipt, what came with a reply sent through the portal, and requests to extend the window."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase

ExtensionStatus = Literal["requested", "approved", "refused", "withdrawn"]
RequestedVia = Literal["member", "portal"]
# How the record names the employee acting through the department's portal.
EMPLOYEE_VIA_PORTAL = "the employee via portal"


class NoticeDelivery(ReviewBase):
    """A notice sent to the department's portal, and when the employee acknowledged it."""

    __tablename__ = "notice_delivery"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    receipt_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # intake's id of the notice the portal reads (from the acknowledgement).
    portal_notice_id: Mapped[uuid.UUID | None] = mapped_column()


class ReplyDetail(ReviewBase):
    """What came with a reply besides its statement: who brought it, the representative the
    employee named, the attachments (intake evidence files) and a request for a hearing."""

    __tablename__ = "reply_detail"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reply.case_id"), primary_key=True)
    submitted_via: Mapped[str] = mapped_column(String(16))
    portal_reply_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    representative: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    hearing_requested: Mapped[bool] = mapped_column(Boolean)


class ReplyExtension(ReviewBase):
    """A request to extend the reply window, by the member or the employee (via the portal),
    with a reason and working days; only the unit's chair approves or refuses it."""

    __tablename__ = "reply_extension"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    requested_via: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    portal_reply_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(Text)
    working_days: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    due_before: Mapped[date] = mapped_column(Date)
    due_after: Mapped[date | None] = mapped_column(Date)
