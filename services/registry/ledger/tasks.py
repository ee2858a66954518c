"""registry's handler for review's final determinations."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ledger.errors import ConflictingDetermination
from services.registry.ledger.service import record_determination
from shared.consumer import MessageHandler, PoisonMessage
from shared.messages import DeterminationRecorded, Envelope


async def append_determination(
    session: AsyncSession, determination: DeterminationRecorded, envelope: Envelope
) -> None:
    try:
        await record_determination(
            session, determination=determination, correlation_id=envelope.correlation_id
        )
    except ConflictingDetermination as exc:
        # Retrying cannot help: an operator must look at it in the dead letters.
        raise PoisonMessage(exc.detail) from exc


on_determination_recorded = MessageHandler(DeterminationRecorded, append_determination)
