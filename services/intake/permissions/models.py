"""Permission requests from departmental portals: an employee asking to use a platform in a
personal capacity, or a department asking to run an official account with named moderators;
with the status history the portal polls."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.intake.base import IntakeBase

# The request's foreign key names the credential table: it must be mapped wherever requests are
# written, including the worker, which has no other reason to load credentials.
from services.intake.clients.models import ClientCredential  # noqa: F401
from services.intake.submissions.models import SubmissionStatusColumns


class PermissionRequest(SubmissionStatusColumns, IntakeBase):
    __tablename__ = "permission_request"
    __table_args__ = (
        # A personal request names its applicant; an official account its purpose.
        CheckConstraint(
            "(kind = 'personal' AND applicant_employee_ref IS NOT NULL "
            "AND account_purpose IS NULL) OR "
            "(kind = 'official_account' AND applicant_employee_ref IS NULL "
            "AND account_purpose IS NOT NULL)",
            name="kind_fields",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    department: Mapped[str] = mapped_column(String(64), index=True)
    client_credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client_credential.id"))
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    account_handle: Mapped[str] = mapped_column(String(200))
    account_url: Mapped[str | None] = mapped_column(String(2048))
    purpose: Mapped[str] = mapped_column(Text)
    # Official accounts only.
    account_purpose: Mapped[str | None] = mapped_column(String(32))
    # Personal requests only: the employee who asks.
    applicant_employee_ref: Mapped[str | None] = mapped_column(String(64))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    applicant_designation: Mapped[str | None] = mapped_column(String(200))
    applicant_office: Mapped[str | None] = mapped_column(String(200))
    # The registry record of the permission this request renews.
    renewal_of: Mapped[uuid.UUID | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    moderators: Mapped[list[AccountModerator]] = relationship(
        lazy="raise", order_by="AccountModerator.position"
    )


class AccountModerator(IntakeBase):
    """Someone the department names as responsible for removing offensive remarks."""

    __tablename__ = "account_moderator"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    permission_request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permission_request.id"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    employee_ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    designation: Mapped[str] = mapped_column(String(200))
