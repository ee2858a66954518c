"""The log of reads of an employee's personal record: who read it (credential, label and role
as they were then), whose record, the reason given, and when. Append-only: a database trigger
refuses UPDATE, DELETE and TRUNCATE (migration registry_0006), so the log produced for an
employee holds every read."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase


class EmployeeRecordRead(RegistryBase):
    __tablename__ = "employee_record_read"
    __table_args__ = (
        Index("ix_employee_record_read_employee_ref_read_at", "employee_ref", "read_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reader_credential_id: Mapped[uuid.UUID] = mapped_column()
    reader_label: Mapped[str] = mapped_column(String(200))
    reader_role: Mapped[str] = mapped_column(String(32))
    employee_ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
