"""Reports from departmental portals: who is alleged to have done what, where, with what evidence,
and the status history the portal polls."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.intake.base import IntakeBase

# A report points at the credential that sent it: that table must be in the metadata wherever
# reports are mapped (a worker imports no router that would bring it in).
from services.intake.clients.models import ClientCredential as ClientCredential
from services.intake.evidence.models import EvidenceFile
from services.intake.submissions.models import SubmissionStatusColumns


class Report(SubmissionStatusColumns, IntakeBase):
    __tablename__ = "report"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    department: Mapped[str] = mapped_column(String(64), index=True)
    client_credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client_credential.id"))
    # The reporter's identity stays here; review only ever sees pseudonyms of it.
    reporter_employee_ref: Mapped[str] = mapped_column(String(64))
    reporter_name: Mapped[str] = mapped_column(String(200))
    reporter_office: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(16))
    content_excerpt: Mapped[str] = mapped_column(Text)
    content_url: Mapped[str | None] = mapped_column(String(2048))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rules_alleged: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # The open report this one repeats (services.intake.reports.duplicates); no case of its own.
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("report.id"), index=True)

    subjects: Mapped[list[ReportSubject]] = relationship(
        lazy="raise", order_by="ReportSubject.position"
    )
    evidence: Mapped[list[EvidenceItem]] = relationship(
        lazy="raise", order_by="EvidenceItem.position"
    )


class ReportSubject(IntakeBase):
    __tablename__ = "report_subject"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # Indexed: duplicate detection starts from the subject.
    employee_ref: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    designation: Mapped[str] = mapped_column(String(200))
    office: Mapped[str] = mapped_column(String(200))
    is_group_administrator: Mapped[bool] = mapped_column(Boolean)


class EvidenceItem(IntakeBase):
    __tablename__ = "evidence_item"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(2048))
    platform_post_id: Mapped[str | None] = mapped_column(String(200))
    author_handle: Mapped[str | None] = mapped_column(String(200))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    captured_by: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # An uploaded snapshot of the post (screenshot, PDF, HTML), of the report's own department.
    snapshot_file_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("evidence_file.id"), index=True
    )

    snapshot_file: Mapped[EvidenceFile | None] = relationship(lazy="raise")
