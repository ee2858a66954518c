"""Evidence snapshot files of a department and the custody log of each.

The bytes themselves live in the evidence store (services.intake.evidence.storage), named by
their SHA-256; a row here says whose they are, what they are and how big. Every access to a
file or hand-over of it is a custody line, chained to the line before it by hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.base import IntakeBase

CustodyAction = Literal["uploaded", "attached", "read", "handed_over"]
CUSTODY_ACTIONS: tuple[CustodyAction, ...] = ("uploaded", "attached", "read", "handed_over")


class EvidenceFile(IntakeBase):
    __tablename__ = "evidence_file"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    department: Mapped[str] = mapped_column(String(64))
    client_credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client_credential.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # As sniffed from the bytes (and matching what the uploader declared).
    media_type: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The last custody line's number and hash, kept on the row that every append locks: the
    # chain stays linear under concurrent appends, and a deleted last line is noticed.
    custody_length: Mapped[int] = mapped_column(Integer)
    custody_head: Mapped[str] = mapped_column(String(64))


class CustodyLine(IntakeBase):
    __tablename__ = "custody_line"
    __table_args__ = (UniqueConstraint("evidence_file_id", "sequence"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    evidence_file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence_file.id"))
    # 1, 2, 3... within one file's chain.
    sequence: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    # Who: "client:<key id>" for a portal's credential, "member:<id>" for a monitoring-unit member.
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    # Whom the item was handed to: set on 'handed_over' lines only.
    recipient: Mapped[str | None] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    line_hash: Mapped[str] = mapped_column(String(64))
