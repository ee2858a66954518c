"""Accepting reports and projecting their status from review's and registry's events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.intake.clients.models import ClientCredential
from services.intake.evidence.service import attach_snapshots
from services.intake.reports.duplicates import (
    LINKED_STATUS,
    find_open_original,
    subject_lock_names,
)
from services.intake.reports.models import EvidenceItem, Report
from services.intake.reports.schemas import ReportCreate
from services.intake.settings import IntakeSettings
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput, NotFound
from shared.messages import AllegedSubject, ReportedEvidence, ReportReceived
from shared.outbox import stage_message
from shared.pseudonyms import pseudonym

# Accepting a report is intake's busiest path, so each step here is one prepared text statement
# and one round trip: three statements (four with the outbox row), not one per row written. With
# the credential, the idempotency key's claim and its answer, a report is seven statements
# between BEGIN and COMMIT.

# Which alleged rules the catalogue knows, and the subjects' locks (duplicates.py), taken in
# the order given: two things in one round trip, before the check for a repeated report.
KNOWN_RULES_UNDER_LOCKS = text(
    """
    SELECT
        ARRAY(
            SELECT code FROM intake.rule_reference
            WHERE code = ANY(CAST(:rule_codes AS VARCHAR[]))
        ) AS known_codes,
        (
            SELECT count(pg_advisory_xact_lock(hashtextextended(lock_name, 0)))
            FROM unnest(CAST(:lock_names AS TEXT[])) AS lock_name
        ) AS locks_held
    """
)

# The report, its subjects, its evidence items and the first line of its status history, in
# one statement (the arrays are columns, one element per row).
STORE_REPORT = text(
    """
    WITH report AS (
        INSERT INTO intake.report (
            id, department, client_credential_id, reporter_employee_ref, reporter_name,
            reporter_office, platform, content_excerpt, content_url, posted_at, rules_alleged,
            status, status_changed_at, received_at, duplicate_of
        )
        VALUES (
            :id, :department, :client_credential_id, :reporter_employee_ref, :reporter_name,
            :reporter_office, :platform, :content_excerpt, :content_url, :posted_at,
            CAST(:rules_alleged AS VARCHAR[]), :status, :received_at, :received_at,
            :duplicate_of
        )
        RETURNING id
    ), subjects AS (
        INSERT INTO intake.report_subject (
            report_id, position, employee_ref, name, designation, office, is_group_administrator
        )
        SELECT report.id, subject.*
        FROM report, unnest(
            CAST(:subject_positions AS INTEGER[]), CAST(:subject_employee_refs AS VARCHAR[]),
            CAST(:subject_names AS VARCHAR[]), CAST(:subject_designations AS VARCHAR[]),
            CAST(:subject_offices AS VARCHAR[]),
            CAST(:subject_group_administrators AS BOOLEAN[])
        ) AS subject
    ), evidence AS (
        INSERT INTO intake.evidence_item (
            report_id, position, kind, url, platform_post_id, author_handle, captured_at,
            captured_by, description, snapshot_file_id
        )
        SELECT report.id, item.*
        FROM report, unnest(
            CAST(:evidence_positions AS INTEGER[]), CAST(:evidence_kinds AS VARCHAR[]),
            CAST(:evidence_urls AS VARCHAR[]), CAST(:evidence_post_ids AS VARCHAR[]),
            CAST(:evidence_handles AS VARCHAR[]), CAST(:evidence_captured_at AS TIMESTAMPTZ[]),
            CAST(:evidence_captured_by AS VARCHAR[]), CAST(:evidence_descriptions AS TEXT[]),
            CAST(:evidence_snapshot_ids AS UUID[])
        ) AS item
    )
    INSERT INTO intake.submission_status_event (submission_id, status, occurred_at)
    SELECT report.id, CAST(:status AS VARCHAR), CAST(:received_at AS TIMESTAMPTZ) FROM report
    """
)


@dataclass(frozen=True)
class AcceptedReport:
    id: uuid.UUID
    status: str
    duplicate_of: uuid.UUID | None


def refuse_unknown_rules(rule_codes: list[str], known: set[str]) -> None:
    unknown = [
        FieldProblem(
            field=f"rules_alleged.{index}", message=f"'{code}' is not in the rules catalogue"
        )
        for index, code in enumerate(rule_codes)
        if code not in known
    ]
    if unknown:
        raise InvalidInput("Some alleged rules are not in the rules catalogue.", errors=unknown)


async def check_rules_under_locks(
    session: AsyncSession, *, rule_codes: list[str], lock_names: list[str]
) -> None:
    """422 naming each alleged rule the catalogue lacks; and hold `lock_names` until the
    transaction ends."""
    known = await session.scalar(
        KNOWN_RULES_UNDER_LOCKS, {"rule_codes": rule_codes, "lock_names": lock_names}
    )
    refuse_unknown_rules(rule_codes, set(known or ()))


async def store_report(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    report_in: ReportCreate,
    client: ClientCredential,
    content_url: str | None,
    status: str,
    received_at: datetime,
    duplicate_of: uuid.UUID | None,
) -> None:
    subjects, evidence = report_in.subjects, report_in.evidence
    await session.execute(
        STORE_REPORT,
        {
            "id": report_id,
            "department": client.organisation_code,
            "client_credential_id": client.id,
            "reporter_employee_ref": report_in.reporter.employee_ref,
            "reporter_name": report_in.reporter.name,
            "reporter_office": report_in.reporter.office,
            "platform": report_in.platform,
            "content_excerpt": report_in.content_excerpt,
            "content_url": content_url,
            "posted_at": report_in.posted_at,
            "rules_alleged": list(dict.fromkeys(report_in.rules_alleged)),
            "status": status,
            "received_at": received_at,
            "duplicate_of": duplicate_of,
            "subject_positions": list(range(len(subjects))),
            "subject_employee_refs": [subject.employee_ref for subject in subjects],
            "subject_names": [subject.name for subject in subjects],
            "subject_designations": [subject.designation for subject in subjects],
            "subject_offices": [subject.office for subject in subjects],
            "subject_group_administrators": [
                subject.is_group_administrator for subject in subjects
            ],
            "evidence_positions": list(range(len(evidence))),
            "evidence_kinds": [item.kind for item in evidence],
            "evidence_urls": [str(item.url) if item.url else None for item in evidence],
            "evidence_post_ids": [item.platform_post_id for item in evidence],
            "evidence_handles": [item.author_handle for item in evidence],
            "evidence_captured_at": [item.captured_at for item in evidence],
            "evidence_captured_by": [item.captured_by for item in evidence],
            "evidence_descriptions": [item.description for item in evidence],
            "evidence_snapshot_ids": [item.snapshot_file_id for item in evidence],
        },
    )


async def accept_report(
    session: AsyncSession,
    *,
    report_in: ReportCreate,
    client: ClientCredential,
    settings: IntakeSettings,
    correlation_id: str,
) -> AcceptedReport:
    """Store the report and stage report.received in the same transaction. Snapshots named in its
    evidence must be the department's own uploads; each gets an 'attached' custody line.

    A report repeating an open one is stored linked to it, and nothing is staged
    (services.intake.reports.duplicates)."""
    now = utcnow()
    report_id = uuid.uuid4()
    department = client.organisation_code
    employee_refs = [subject.employee_ref for subject in report_in.subjects]
    content_url = str(report_in.content_url) if report_in.content_url else None
    snapshot_file_ids = {
        position: evidence.snapshot_file_id
        for position, evidence in enumerate(report_in.evidence)
        if evidence.snapshot_file_id is not None
    }
    if snapshot_file_ids:
        # The snapshots' hashes decide which locks to take: checked (and locked) first.
        await check_rules_under_locks(session, rule_codes=report_in.rules_alleged, lock_names=[])
        attached = await attach_snapshots(
            session, snapshot_file_ids=snapshot_file_ids, report_id=report_id, client=client
        )
        snapshot_sha256s = [snapshot.sha256 for snapshot in attached.values()]
        lock_names = subject_lock_names(
            department=department,
            employee_refs=employee_refs,
            content_url=content_url,
            snapshot_sha256s=snapshot_sha256s,
        )
        await check_rules_under_locks(session, rule_codes=[], lock_names=lock_names)
    else:
        snapshot_sha256s = []
        lock_names = subject_lock_names(
            department=department,
            employee_refs=employee_refs,
            content_url=content_url,
            snapshot_sha256s=snapshot_sha256s,
        )
        await check_rules_under_locks(
            session, rule_codes=report_in.rules_alleged, lock_names=lock_names
        )
    duplicate_of = (
        await find_open_original(
            session,
            department=department,
            employee_refs=employee_refs,
            content_url=content_url,
            snapshot_sha256s=snapshot_sha256s,
            received_since=now - timedelta(days=settings.duplicate_window_days),
        )
        if lock_names
        else None
    )
    status = "received" if duplicate_of is None else LINKED_STATUS
    await store_report(
        session,
        report_id=report_id,
        report_in=report_in,
        client=client,
        content_url=content_url,
        status=status,
        received_at=now,
        duplicate_of=duplicate_of,
    )
    if snapshot_file_ids:
        await session.flush()  # the custody lines attach_snapshots added
    accepted = AcceptedReport(id=report_id, status=status, duplicate_of=duplicate_of)
    if duplicate_of is not None:
        # The open report's case goes on; this one only joins it.
        return accepted
    key = settings.pseudonym_key.get_secret_value()
    rules_alleged = list(dict.fromkeys(report_in.rules_alleged))
    await stage_message(
        session,
        ReportReceived(
            report_id=report_id,
            department=department,
            subjects=[AllegedSubject(**subject.model_dump()) for subject in report_in.subjects],
            platform=report_in.platform,
            content_excerpt=report_in.content_excerpt,
            content_url=content_url,
            posted_at=report_in.posted_at,
            rules_alleged=rules_alleged,
            evidence_count=len(report_in.evidence),
            # What review's charges rely on; never who captured it (possibly the reporter).
            evidence=[
                ReportedEvidence(**item.model_dump(exclude={"captured_by"}, mode="json"))
                for item in report_in.evidence
            ],
            reporter_ref=pseudonym(key, kind="employee", value=report_in.reporter.employee_ref),
            reporter_office_ref=pseudonym(key, kind="office", value=report_in.reporter.office),
            received_at=now,
            account_handles=list(
                dict.fromkeys(
                    item.author_handle.strip()
                    for item in report_in.evidence
                    if item.author_handle and item.author_handle.strip()
                )
            ),
        ),
        producer="intake",
        correlation_id=correlation_id,
    )
    return accepted


async def get_department_report(
    session: AsyncSession, *, report_id: uuid.UUID, department: str
) -> Report:
    """The report if it belongs to the department; 404 otherwise, whether or not it exists."""
    report = await session.scalar(
        select(Report)
        .where(Report.id == report_id, Report.department == department)
        .options(
            selectinload(Report.subjects),
            selectinload(Report.evidence).selectinload(EvidenceItem.snapshot_file),
        )
    )
    if report is None:
        raise NotFound(f"No report {report_id} for this department.")
    return report
