"""intake's handlers for status events from review and registry, for every submission kind."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.notices.service import follow_case_status
from services.intake.submissions.status import record_status
from shared.consumer import MessageHandler
from shared.messages import CaseStatusChanged, Envelope, RecordCreated


async def apply_case_status(
    session: AsyncSession, change: CaseStatusChanged, envelope: Envelope
) -> None:
    await record_status(
        session,
        submission_id=change.submission_id,
        status=change.status,
        occurred_at=change.changed_at,
    )
    await follow_case_status(session, change=change)


async def apply_record_created(
    session: AsyncSession, record: RecordCreated, envelope: Envelope
) -> None:
    await record_status(
        session,
        submission_id=record.submission_id,
        status="recorded",
        occurred_at=record.recorded_at,
    )


on_case_status_changed = MessageHandler(CaseStatusChanged, apply_case_status)
on_record_created = MessageHandler(RecordCreated, apply_record_created)
