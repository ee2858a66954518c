"""The ledger's gauge for Prometheus: its length, read at each scrape (shared.metrics)."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ledger.service import ledger_head

LEDGER_RECORDS = Gauge(
    "conduct_ledger_records",
    "Records in the registry's hash-chained ledger (the head's sequence).",
    multiprocess_mode="mostrecent",
)


async def refresh_ledger_gauge(session: AsyncSession) -> None:
    head = await ledger_head(session)
    LEDGER_RECORDS.set(head[0] if head else 0)
