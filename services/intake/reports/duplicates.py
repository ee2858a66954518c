"""Spotting a report that repeats an open one, so one post about one person opens one case.

A new report is a duplicate when an open report of the same department, received within the
window (INTAKE_DUPLICATE_WINDOW_DAYS), names every one of its subjects and either the same
content link or a snapshot with the same SHA-256. It is then stored linked to that report
(`duplicate_of`) with status "linked", and no second case is opened; the caller is told in the
answer. "Open" means not dismissed, closed or recorded; a linked report is never the one linked
to, so every duplicate points at the report whose case is running.

A report naming someone the open report does not name is not a duplicate (that allegation would
otherwise be lost). Reports about the same subjects are checked one at a time (a transaction
lock per department and subject, taken in the statement before the check so that the check's
snapshot sees the report of whoever held the lock), so two copies sent at once still open one
case between them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Statuses after which a report's case is over; a repeat then opens a case of its own.
CLOSED_STATUSES = ("dismissed", "closed", "recorded")
LINKED_STATUS = "linked"


def subject_lock_names(
    *,
    department: str,
    employee_refs: Collection[str],
    content_url: str | None,
    snapshot_sha256s: Collection[str],
) -> list[str]:
    """The transaction locks (pg_advisory_xact_lock on hashtextextended of each name) a new
    report takes before it looks for the report it repeats, in the order to take them: one per
    (department, subject). A report with neither a link nor a snapshot cannot repeat anything
    and takes none."""
    if content_url is None and not snapshot_sha256s:
        return []
    return [
        f"intake-report-subject:{department}:{employee_ref}"
        for employee_ref in sorted(set(employee_refs))
    ]


# The earliest open report naming every subject of the new one (by the subject index) with the
# same link or a snapshot of the same hash. One text statement, so its plan and its prepared
# statement are made once per connection rather than built for each report.
FIND_OPEN_ORIGINAL = text(
    """
    SELECT report.id FROM intake.report AS report
    WHERE report.id IN (
            SELECT subject.report_id FROM intake.report_subject AS subject
            WHERE subject.employee_ref = ANY(CAST(:employee_refs AS VARCHAR[]))
            GROUP BY subject.report_id
            HAVING count(DISTINCT subject.employee_ref) = :subject_count
        )
        AND report.department = :department
        AND report.duplicate_of IS NULL
        AND report.status <> ALL(CAST(:closed_statuses AS VARCHAR[]))
        AND report.received_at >= :received_since
        AND (
            report.content_url = CAST(:content_url AS VARCHAR)
            OR EXISTS (
                SELECT FROM intake.evidence_item AS item
                JOIN intake.evidence_file AS snapshot ON snapshot.id = item.snapshot_file_id
                WHERE item.report_id = report.id
                    AND snapshot.sha256 = ANY(CAST(:snapshot_sha256s AS VARCHAR[]))
            )
        )
    ORDER BY report.received_at, report.id
    LIMIT 1
    """
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
    """The earliest open report this one repeats, if any (one query, by subject index). Run it
    under the subjects' locks (subject_lock_names), so that two copies sent at once are seen
    by one another."""
    refs = sorted(set(employee_refs))
    if not refs or (content_url is None and not snapshot_sha256s):
        return None
    found: uuid.UUID | None = await session.scalar(
        FIND_OPEN_ORIGINAL,
        {
            "employee_refs": refs,
            "subject_count": len(refs),
            "department": department,
            "closed_statuses": list(CLOSED_STATUSES),
            "received_since": received_since,
            "content_url": content_url,
            "snapshot_sha256s": sorted(set(snapshot_sha256s)),
        },
    )
    return found
