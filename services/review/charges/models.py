"""A case's charges (one per alleged clause of the rules catalogue), the evidence items they rely
on, and the finding on each charge that a determination records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.review.base import ReviewBase


class CaseEvidence(ReviewBase):
    """One evidence item of a case, numbered from 1 within the case: item 1 is the reported
    content itself, the report's own items follow in their order. Nothing here names the
    reporter: review holds only an opaque reference to them, on the case."""

    __tablename__ = "case_evidence"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "reported_content" for item 1; otherwise the report's kind of item (screenshot, link...).
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    platform_post_id: Mapped[str | None] = mapped_column(String(200))
    author_handle: Mapped[str | None] = mapped_column(String(200))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot_file_id: Mapped[uuid.UUID | None] = mapped_column()
    # Its clearance for disclosure to the employee, by the assigned member before the notice
    # (services/review/charges/disclosure.py): null while undecided, "cleared" or "withheld".
    disclosure: Mapped[str | None] = mapped_column(String(16))
    # "redacted" (a redacted description given), "no_identifying_details" (the text confirmed
    # free of them) or "withheld".
    disclosure_basis: Mapped[str | None] = mapped_column(String(32))
    # The description as the employee will read it: the redacted text, or the original.
    disclosed_description: Mapped[str | None] = mapped_column(Text)
    snapshot_reviewed: Mapped[bool | None] = mapped_column(Boolean)
    disclosure_reason: Mapped[str | None] = mapped_column(Text)
    disclosure_decided_by: Mapped[uuid.UUID | None] = mapped_column()
    disclosure_decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Charge(ReviewBase):
    """One alleged clause against the case's employee: a rule of the catalogue, what is alleged
    under it, and the evidence items it relies on. Withdrawn charges stay, marked, so the
    record shows what was once alleged."""

    __tablename__ = "charge"
    __table_args__ = (
        UniqueConstraint("case_id", "number"),
        # One standing charge per clause on a case.
        Index(
            "uq_charge_standing_rule",
            "case_id",
            "rule",
            unique=True,
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64))
    rule_title: Mapped[str] = mapped_column(String(300))
    # "alleged" (drafted from the report's rules), "group_administrator" (drafted for a subject
    # who administers the group where the breach happened) or "added" (by the member).
    basis: Mapped[str] = mapped_column(String(32))
    particulars: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    drafted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    amended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)


class ChargeFinding(ReviewBase):
    """The determination's finding on one charge: proved or not, why, and on which of the
    charge's evidence items."""

    __tablename__ = "charge_finding"

    charge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charge.id"), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    finding: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    evidence_relied_on: Mapped[list[int]] = mapped_column(ARRAY(Integer))
