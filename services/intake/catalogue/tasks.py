"""Keeps intake's rules replica in step with registry's catalogue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalogue_replica import replace_rules_replica
from shared.consumer import MessageHandler
from shared.messages import Envelope, RulesCataloguePublished


async def apply_rules_catalogue(
    session: AsyncSession, catalogue: RulesCataloguePublished, envelope: Envelope
) -> None:
    await replace_rules_replica(session, service="intake", catalogue=catalogue)


on_rules_catalogue_published = MessageHandler(RulesCataloguePublished, apply_rules_catalogue)
