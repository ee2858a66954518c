"""Client credentials of departmental portals and MTI systems.

A client (one portal, one MTI system) holds one credential, or two while it rotates: rotation
issues a new credential with the same `client_id`, and the old one keeps working until its
`expires_at`. Whatever is scoped to the caller rather than to one secret (idempotency keys,
rate limits) is scoped to `client_id`, so it carries over a rotation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import DateTime, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.base import IntakeBase

OrganisationKind = Literal["department", "institution"]


class ClientCredential(IntakeBase):
    __tablename__ = "client_credential"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The client this credential speaks for: its first credential's id, kept by rotations.
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    organisation_kind: Mapped[str] = mapped_column(String(16))
    organisation_code: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
