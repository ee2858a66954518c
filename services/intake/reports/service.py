"""Accepting reports and projecting their status from review's and registry's events."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.intake.catalogue.models import RuleReference
from services.intake.clients.models import ClientCredential
from services.intake.evidence.service import attach_snapshots
from services.intake.reports.duplicates import LINKED_STATUS, repeated_open_report
from services.intake.reports.models import (
    EvidenceItem,
    Report,
    ReportSubject,
)
from services.intake.reports.schemas import ReportCreate
from services.intake.settings import IntakeSettings
from services.intake.submissions.status import start_status
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput, NotFound
from shared.messages import AllegedSubject, ReportedEvidence, ReportReceived
from shared.outbox import stage_message
from shared.pseudonyms import pseudonym


async def check_rules_known(session: AsyncSession, rule_codes: list[str]) -> None:
    known = set(
        (
            await session.scalars(
                select(RuleReference.code).where(RuleReference.code.in_(rule_codes))
            )
        ).all()
    )
    unknown = [
        FieldProblem(
            field=f"rules_alleged.{index}", message=f"'{code}' is not in the rules catalogue"
        )
        for index, code in enumerate(rule_codes)
        if code not in known
    ]
    if unknown:
        raise InvalidInput("Some alleged rules are not in the rules catalogue.", errors=unknown)


async def accept_report(
    session: AsyncSession,
    *,
    report_in: ReportCreate,
    client: ClientCredential,
    settings: IntakeSettings,
    correlation_id: str,
) -> Report:
    """Store the report and stage report.received in the same transaction. Snapshots named in its
    evidence must be the department's own uploads; each gets an 'attached' custody line.

    A report repeating an open one is stored linked to it, and nothing is staged
    (services.intake.reports.duplicates)."""
    await check_rules_known(session, report_in.rules_alleged)
    now = utcnow()
    report_id = uuid.uuid4()
    snapshot_file_ids = {
        position: evidence.snapshot_file_id
        for position, evidence in enumerate(report_in.evidence)
        if evidence.snapshot_file_id is not None
    }
    attached = (
        await attach_snapshots(
            session, snapshot_file_ids=snapshot_file_ids, report_id=report_id, client=client
        )
        if snapshot_file_ids
        else {}
    )
    content_url = str(report_in.content_url) if report_in.content_url else None
    duplicate_of = await repeated_open_report(
        session,
        department=client.organisation_code,
        employee_refs=[subject.employee_ref for subject in report_in.subjects],
        content_url=content_url,
        snapshot_sha256s=[snapshot.sha256 for snapshot in attached.values()],
        received_since=now - timedelta(days=settings.duplicate_window_days),
    )
    status = "received" if duplicate_of is None else LINKED_STATUS
    report = Report(
        id=report_id,
        department=client.organisation_code,
        client_credential_id=client.id,
        reporter_employee_ref=report_in.reporter.employee_ref,
        reporter_name=report_in.reporter.name,
        reporter_office=report_in.reporter.office,
        platform=report_in.platform,
        content_excerpt=report_in.content_excerpt,
        content_url=content_url,
        posted_at=report_in.posted_at,
        rules_alleged=list(dict.fromkeys(report_in.rules_alleged)),
        status=status,
        status_changed_at=now,
        received_at=now,
        duplicate_of=duplicate_of,
    )
    session.add(report)
    await session.flush()
    session.add_all(
        [
            ReportSubject(report_id=report.id, position=position, **subject.model_dump())
            for position, subject in enumerate(report_in.subjects)
        ]
    )
    session.add_all(
        [
            EvidenceItem(
                report_id=report.id,
                position=position,
                **evidence.model_dump(exclude={"url"}),
                url=str(evidence.url) if evidence.url else None,
            )
            for position, evidence in enumerate(report_in.evidence)
        ]
    )
    start_status(session, submission_id=report.id, status=status, occurred_at=now)
    if duplicate_of is not None:
        # The open report's case goes on; this one only joins it.
        await session.flush()
        return report
    key = settings.pseudonym_key.get_secret_value()
    await stage_message(
        session,
        ReportReceived(
            report_id=report.id,
            department=report.department,
            subjects=[AllegedSubject(**subject.model_dump()) for subject in report_in.subjects],
            platform=report.platform,
            content_excerpt=report.content_excerpt,
            content_url=report.content_url,
            posted_at=report.posted_at,
            rules_alleged=report.rules_alleged,
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
    await session.flush()
    return report


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
