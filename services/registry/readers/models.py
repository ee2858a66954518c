"""Reader credentials: who may read the ledger (auditors, competent authorities, dashboards),
and for which department. Over HTTP only a competent authority writes to the ledger (sanction
events, attributed to its credential); everything else arrives as messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import RegistryBase

ReaderRole = Literal["auditor", "dashboard", "competent_authority"]
READER_ROLES: tuple[ReaderRole, ...] = ("auditor", "dashboard", "competent_authority")


class ReaderCredential(RegistryBase):
    __tablename__ = "reader_credential"
    __table_args__ = (
        CheckConstraint("role IN ('auditor', 'dashboard', 'competent_authority')", name="role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(32))
    # The one department this credential may read; None reads every department.
    organisation_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
