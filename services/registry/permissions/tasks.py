"""registry's handler for review's permission decisions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.permissions.errors import (
    ConflictingPermissionDecision,
    MalformedPermissionDecision,
)
from services.registry.permissions.recording import record_permission_decision
from shared.consumer import MessageHandler, PoisonMessage
from shared.messages import Envelope, PermissionDecided


async def append_permission_decision(
    session: AsyncSession, decision: PermissionDecided, envelope: Envelope
) -> None:
    try:
        await record_permission_decision(
            session, decision=decision, correlation_id=envelope.correlation_id
        )
    except (ConflictingPermissionDecision, MalformedPermissionDecision) as exc:
        # Retrying cannot help: an operator must look at it in the dead letters.
        raise PoisonMessage(exc.detail) from exc


on_permission_decided = MessageHandler(PermissionDecided, append_permission_decision)
