"""A posted violator list (the batch, with its per-row verdicts) and its accepted rows (entries),
each entry a submission with its own status that review's events move on."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.base import IntakeBase
from services.intake.submissions.models import SubmissionStatusColumns


class ViolatorListBatch(IntakeBase):
    """One posted list. The institution's batch key makes a repost find the first result."""

    __tablename__ = "violator_list_batch"
    __table_args__ = (UniqueConstraint("institution", "batch_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    institution: Mapped[str] = mapped_column(String(64))
    batch_key: Mapped[str] = mapped_column(String(128))
    client_credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client_credential.id"))
    # "csv" or "json": how the list arrived.
    source_format: Mapped[str] = mapped_column(String(8))
    # Rows are validated, stored and queued in the request, so a stored batch is processed.
    status: Mapped[str] = mapped_column(String(16))
    total_rows: Mapped[int] = mapped_column(Integer)
    accepted_rows: Mapped[int] = mapped_column(Integer)
    rejected_rows: Mapped[int] = mapped_column(Integer)
    # [{"row": N, "errors": [{"field": ..., "message": ...}]}, ...] in row order.
    rejections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ViolatorListEntry(SubmissionStatusColumns, IntakeBase):
    """An accepted row: an allegation against one employee, awaiting review's confirmation."""

    __tablename__ = "violator_list_entry"
    # Also the index that finds a batch's entries in row order.
    __table_args__ = (UniqueConstraint("batch_id", "row_number"),)

    # A list's entries arrive by COPY, 100,000 at a time, with time-ordered ids made in Python
    # (violator_lists.storing); the database's default stays for any other writer.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    # No foreign key on purpose: its per-row check would double the cost of a 100,000-row COPY,
    # and entries are only ever written by storing.copy_slice, in their batch's own transaction.
    batch_id: Mapped[uuid.UUID] = mapped_column()
    row_number: Mapped[int] = mapped_column(Integer)
    institution: Mapped[str] = mapped_column(String(64))
    employee_ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    designation: Mapped[str] = mapped_column(String(200))
    office: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    finding: Mapped[str] = mapped_column(Text)
    found_on: Mapped[date] = mapped_column(Date)
    institution_finding_ref: Mapped[str] = mapped_column(String(64))
    notice_and_reply_on_record: Mapped[bool] = mapped_column(Boolean)
    # Both default to the transaction's time, the batch's received_at: a list's COPY leaves them
    # to the database (storing.ENTRY_COPY_COLUMNS).
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
