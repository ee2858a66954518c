"""registry's handler for review's appeal decisions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.appeals.errors import ConflictingAppealOutcome, NoViolationToAppeal
from services.registry.appeals.service import record_appeal_outcome
from shared.consumer import MessageHandler, PoisonMessage
from shared.messages import AppealDecided, Envelope


async def append_appeal_outcome(
    session: AsyncSession, decision: AppealDecided, envelope: Envelope
) -> None:
    try:
        await record_appeal_outcome(
            session, decision=decision, correlation_id=envelope.correlation_id
        )
    except (ConflictingAppealOutcome, NoViolationToAppeal) as exc:
        # Retrying cannot help: an operator must look at it in the dead letters (and may
        # replay it once the violation is recorded).
        raise PoisonMessage(exc.detail) from exc


on_appeal_decided = MessageHandler(AppealDecided, append_appeal_outcome)
