"""review's handlers: reports become cases; registry records close the loop."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.cases.service import mark_recorded, open_cases_for_report
from services.review.settings import get_settings
from shared.consumer import MessageHandler
from shared.messages import Envelope, RecordCreated, ReportReceived


async def open_report_cases(
    session: AsyncSession, report: ReportReceived, envelope: Envelope
) -> None:
    await open_cases_for_report(
        session, report=report, settings=get_settings(), correlation_id=envelope.correlation_id
    )


async def close_recorded_case(
    session: AsyncSession, record: RecordCreated, envelope: Envelope
) -> None:
    await mark_recorded(session, record=record)


on_report_received = MessageHandler(ReportReceived, open_report_cases)
on_record_created = MessageHandler(RecordCreated, close_recorded_case)
