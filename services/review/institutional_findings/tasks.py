"""review's handler for MTI violator-list rows: each row opens an institutional-finding case for
confirmation (DESIGN.md, violator_list.entry_received)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.review.institutional_findings.service import open_case_for_entry
from services.review.settings import get_settings
from shared.consumer import MessageHandler
from shared.messages import Envelope, ViolatorListEntryReceived


async def open_institutional_finding_case(
    session: AsyncSession, entry: ViolatorListEntryReceived, envelope: Envelope
) -> None:
    await open_case_for_entry(
        session, entry=entry, settings=get_settings(), correlation_id=envelope.correlation_id
    )


on_violator_list_entry_received = MessageHandler(
    ViolatorListEntryReceived, open_institutional_finding_case
)
