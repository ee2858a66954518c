"""Notices served on a department's employees, kept for the department's portal, which reads
them and answers on the employee's behalf: the receipt, replies (and requests for more time),
and the notice's history as review reported it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.base import IntakeBase

# The reply's foreign key names the credential table: map it wherever replies are written.
from services.intake.clients.models import ClientCredential  # noqa: F401


class ServedNotice(IntakeBase):
    __tablename__ = "served_notice"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # review's case: never shown to the portal, named in the messages back.
    case_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    submission_id: Mapped[uuid.UUID] = mapped_column()
    department: Mapped[str] = mapped_column(String(64), index=True)
    employee_ref: Mapped[str] = mapped_column(String(64))
    employee_name: Mapped[str] = mapped_column(String(200))
    # The notice as review's case page showed it when served, whole.
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reply_due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    receipt_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NoticeReply(IntakeBase):
    """What the portal sent: a reply, or (no statement) a request for more time."""

    __tablename__ = "notice_reply"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("served_notice.id"), index=True)
    client_credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client_credential.id"))
    statement: Mapped[str | None] = mapped_column(Text)
    representative: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    attachment_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    hearing_requested: Mapped[bool] = mapped_column(Boolean)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_working_days: Mapped[int | None] = mapped_column(Integer)
    # submitted, then accepted or refused by review (with why).
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NoticeHistoryEvent(IntakeBase):
    __tablename__ = "notice_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("served_notice.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingNoticeUpdate(IntakeBase):
    """An update of a notice that arrived before the notice itself (the queue does not keep
    their order): kept until notice.served comes in, then applied in order and removed. Keyed
    by the update's message id, so a redelivery never keeps it twice."""

    __tablename__ = "pending_notice_update"

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # The notice.updated payload, whole.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
