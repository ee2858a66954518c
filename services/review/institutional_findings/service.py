"""Institutional-finding cases: a Medical Teaching Institution's violator-list row becomes a
case for the monitoring unit whose jurisdiction covers the institution, assigned like a report
case, to confirm or clear the allegation through the same gated procedure. Where the
institution's own record shows the employee was given notice and replied, the assignee may
accept that record instead of serving a second notice: an explicit move on the case's history
naming the record, never a gate skipped silently.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.history import announce_status, move_case
from services.review.cases.lifecycle import CaseState, IllegalTransition
from services.review.cases.models import Case, Notice
from services.review.cases.procedure import begin_review, require_assignee
from services.review.cases.service import open_case, unit_for_organisation
from services.review.institutional_findings.models import InstitutionalFinding
from services.review.institutional_findings.schemas import RecordAcceptanceCreate
from services.review.settings import ReviewSettings
from services.review.units.models import Member
from shared.db import utcnow
from shared.messages import ViolatorListEntryReceived
from shared.pseudonyms import pseudonym

CASE_KIND = "institutional_finding"
# A violator-list row names one employee: the case is its only subject.
SUBJECT_POSITION = 0


def institution_refs(settings: ReviewSettings, *, institution: str) -> tuple[str, str]:
    """The institution stands where a report's reporter would: as the reporting party and as
    the reporter's office, so a member working in the institution is conflicted as one working
    in a reporter's office would be. Pseudonymous, like a reporter's references."""
    key = settings.pseudonym_key.get_secret_value()
    return (
        pseudonym(key, kind="institution", value=institution),
        pseudonym(key, kind="office", value=institution),
    )


async def open_case_for_entry(
    session: AsyncSession,
    *,
    entry: ViolatorListEntryReceived,
    settings: ReviewSettings,
    correlation_id: str,
) -> Case:
    """One case for the row's employee in the unit covering the institution, assigned at once
    when an eligible member exists, otherwise waiting in that unit's queue (or, where no unit
    covers the institution, for one to be given the jurisdiction). A row already opened (the
    same entry staged again under a new message id) opens nothing new."""
    existing = await session.scalar(
        select(Case).where(
            Case.submission_id == entry.entry_id, Case.subject_position == SUBJECT_POSITION
        )
    )
    if existing is not None:
        return existing
    unit_id = await unit_for_organisation(session, entry.institution)
    reporter_ref, reporter_office_ref = institution_refs(settings, institution=entry.institution)
    now = utcnow()
    case = Case(
        id=uuid.uuid4(),
        kind=CASE_KIND,
        submission_id=entry.entry_id,
        subject_position=SUBJECT_POSITION,
        unit_id=unit_id,
        department=entry.institution,
        subject_employee_ref=entry.employee_ref,
        subject_name=entry.name,
        subject_designation=entry.designation,
        # A row need not name the office: the institution is where the employee serves.
        subject_office=entry.office or entry.institution,
        is_group_administrator=False,
        platform=entry.platform,
        content_excerpt=entry.finding,
        content_url=None,
        posted_at=None,
        rules_alleged=[entry.rule],
        # The institution's evidence stays with its own record; none came with the row.
        evidence_count=0,
        reporter_ref=reporter_ref,
        reporter_office_ref=reporter_office_ref,
        state=CaseState.RECEIVED,
        reported_at=entry.received_at,
        updated_at=now,
    )
    return await open_case(
        session,
        case=case,
        reason=(
            f"opened for confirmation from {entry.institution}'s violator list "
            f"(finding {entry.institution_finding_ref}, row {entry.row_number})"
        ),
        details=[
            InstitutionalFinding(
                case_id=case.id,
                entry_id=entry.entry_id,
                batch_id=entry.batch_id,
                row_number=entry.row_number,
                institution=entry.institution,
                institution_finding_ref=entry.institution_finding_ref,
                rule=entry.rule,
                platform=entry.platform,
                finding=entry.finding,
                found_on=entry.found_on,
                notice_and_reply_on_record=entry.notice_and_reply_on_record,
            )
        ],
        settings=settings,
        correlation_id=correlation_id,
    )


async def finding_of(session: AsyncSession, *, case: Case) -> InstitutionalFinding | None:
    """The institution's finding behind the case, if it is an institutional-finding case."""
    if case.kind != CASE_KIND:
        return None
    return await session.get(InstitutionalFinding, case.id)


async def accept_record_of_notice_and_reply(
    session: AsyncSession,
    *,
    case: Case,
    member: Member,
    acceptance_in: RecordAcceptanceCreate,
    correlation_id: str,
) -> InstitutionalFinding:
    """The assignee accepts the institution's record that the employee was given notice and
    replied: the case moves on to the hearing without a second notice, and its history says
    whose record was relied on and what the member checked in it. Refused (409 naming the gate)
    unless the institution's row says its record shows both, and before any notice of review's
    own."""
    require_assignee(case, member)
    finding = await session.get(InstitutionalFinding, case.id, with_for_update=True)
    if finding is None or not finding.notice_and_reply_on_record:
        raise IllegalTransition(
            f"A case in state '{case.state}' cannot move to '{CaseState.REPLY_RECEIVED}' on an "
            "institution's record: the institution's record must show that the employee was "
            "given notice and replied; serve a notice instead."
        )
    if await session.get(Notice, case.id) is not None:
        raise IllegalTransition("A notice has been served on this case: record the reply to it.")
    await begin_review(session, case=case, member=member)
    await move_case(
        session,
        case=case,
        target=CaseState.REPLY_RECEIVED,
        actor=member,
        reason=(
            f"notice and reply on the institution's record: {finding.institution} finding "
            f"{finding.institution_finding_ref} shows the employee was given notice and "
            f"replied, so no second notice is served; checked: {acceptance_in.checked}"
        ),
        on_institutions_record=True,
    )
    finding.record_accepted_by = member.id
    finding.record_accepted_at = case.updated_at
    await announce_status(
        session, case=case, status="reply_received", correlation_id=correlation_id
    )
    await session.flush()
    return finding
