"""Spotting a report that repeats an open one, so one post about one person opens one case.

A new report is a duplicate when an open report of the same department, received within the
window (INTAKE_DUPLICATE_WINDOW_DAYS), names every one of its subjects and either the same
content link or a snapshot with the same SHA-256. It is then stored linked to that report
(`duplicate_of`) with status "linked", and no second case is opened; the caller is told in the
answer. "Open" means not dismissed, closed or recorded; a linked report is never the one linked
to, so every duplicate points at the report whose case is running.

A report naming someone the open report does not name is not a duplicate (that allegation would
otherwise be lost). Reports about the same subjects are checked one at a time (a transaction
lock per department and subject), so two copies sent at once still open one case between them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.evidence.models import EvidenceFile
from services.intake.reports.models import EvidenceItem, Report, ReportSubject

# Statuses after which a report's case is over; a repeat then opens a case of its own.
CLOSED_STATUSES = ("dismissed", "closed", "recorded")
LINKED_STATUS = "linked"


async def serialise_subjects(
    session: AsyncSession, *, department: str, employee_refs: Collection[str]
) -> None:
    """Hold, until the transaction ends, a lock per (department, subject), in a fixed order."""
    for employee_ref in sorted(set(employee_refs)):
        await session.execute(
            select(
                func.pg_advisory_xact_lock(
                    func.hashtextextended(f"intake-report-subject:{department}:{employee_ref}", 0)
                )
            )
        )


async def repeated_open_report(
    session: AsyncSession,
    *,
    department: str,
    employee_refs: Collection[str],
    content_url: str | None,
    snapshot_sha256s: Collection[str],
    received_since: datetime,
) -> uuid.UUID | None:
    """The open report a new one repeats, checked under the subjects' locks; None if none.

    A report with neither a link nor a snapshot cannot repeat anything and takes no lock."""
    if content_url is None and not snapshot_sha256s:
        return None
    await serialise_subjects(session, department=department, employee_refs=employee_refs)
    return await find_open_original(
        session,
        department=department,
        employee_refs=employee_refs,
        content_url=content_url,
        snapshot_sha256s=snapshot_sha256s,
        received_since=received_since,
    )


async def find_open_original(
    session: AsyncSession,
    *,
    department: str,
    employee_refs: Collection[str],
    content_url: str | None,
    snapshot_sha256s: Collection[str],
    received_since: datetime,
) -> uuid.UUID | None:
    """The earliest open report this one repeats, if any (one query, by subject index)."""
    refs = sorted(set(employee_refs))
    hashes = sorted(set(snapshot_sha256s))
    same_content = []
    if content_url is not None:
        same_content.append(Report.content_url == content_url)
    if hashes:
        same_content.append(
            select(EvidenceItem.id)
            .join(EvidenceFile, EvidenceFile.id == EvidenceItem.snapshot_file_id)
            .where(EvidenceItem.report_id == Report.id, EvidenceFile.sha256.in_(hashes))
            .exists()
        )
    if not refs or not same_content:
        return None
    naming_every_subject = (
        select(ReportSubject.report_id)
        .where(ReportSubject.employee_ref.in_(refs))
        .group_by(ReportSubject.report_id)
        .having(func.count(func.distinct(ReportSubject.employee_ref)) == len(refs))
    )
    return await session.scalar(
        select(Report.id)
        .where(
            Report.id.in_(naming_every_subject),
            Report.department == department,
            Report.duplicate_of.is_(None),
            Report.status.not_in(CLOSED_STATUSES),
            Report.received_at >= received_since,
            or_(*same_content),
        )
        .order_by(Report.received_at, Report.id)
        .limit(1)
    )
