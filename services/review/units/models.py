"""Monitoring units, their jurisdictions, their members (and changes in their standing) and
members' personal credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase

MemberRole = Literal["chair", "member", "secretary", "appellate_authority", "auditor"]
MembershipChange = Literal["joined", "deactivated", "leave_started", "leave_ended"]


class MonitoringUnit(ReviewBase):
    __tablename__ = "monitoring_unit"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UnitJurisdiction(ReviewBase):
    """An organisation (department or institution) whose cases the unit handles."""

    __tablename__ = "unit_jurisdiction"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_unit.id"), primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Member(ReviewBase):
    __tablename__ = "member"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    employee_ref: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_leave: Mapped[bool] = mapped_column(Boolean, default=False)
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MemberEvent(ReviewBase):
    """A change in a member's standing (joined, deactivated, on leave, back): who made it,
    when and why. The cases it moved are on each case's own history."""

    __tablename__ = "member_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    change: Mapped[str] = mapped_column(String(32))
    actor_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    reason: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class MemberCredential(ReviewBase):
    __tablename__ = "member_credential"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
