"""The ledger: one append-only, hash-chained sequence of records. A correction or an appeal
outcome is a new record that supersedes an old one; a database trigger refuses UPDATE, DELETE
and TRUNCATE, and the chain makes any change made around it evident."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase

RecordKind = Literal["violation", "cleared_finding"]
RECORD_KINDS: tuple[RecordKind, ...] = ("violation", "cleared_finding")


class LedgerRecord(RegistryBase):
    __tablename__ = "ledger_record"
    __table_args__ = (
        CheckConstraint("record_kind IN ('violation', 'cleared_finding')", name="record_kind"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        # Second line of defence behind the inbox: one original record per case and kind.
        # Later records that supersede it (appeal outcomes, corrections) are not bound by it.
        Index(
            "uq_ledger_record_case_id_record_kind",
            "case_id",
            "record_kind",
            unique=True,
            postgresql_where=text("supersedes_id IS NULL"),
        ),
        Index("ix_ledger_record_department_sequence", "department", "sequence"),
        Index("ix_ledger_record_rules_cited", "rules_cited", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The chain's order: 1, 2, 3... without gaps, assigned under the ledger's lock.
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    record_kind: Mapped[str] = mapped_column(String(32))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_record.id"))
    case_id: Mapped[uuid.UUID] = mapped_column()
    submission_id: Mapped[uuid.UUID] = mapped_column()
    department: Mapped[str] = mapped_column(String(64))
    employee_ref: Mapped[str] = mapped_column(String(64))
    employee_name: Mapped[str] = mapped_column(String(200))
    rules_cited: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    platform: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    # Who decided and who countersigned (review's member ids): due process on the record.
    determined_by: Mapped[uuid.UUID] = mapped_column()
    countersigned_by: Mapped[uuid.UUID | None] = mapped_column()
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    catalogue_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
