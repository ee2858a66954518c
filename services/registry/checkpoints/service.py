"""Taking signed checkpoints of the ledger's head, publishing them, and checking the ledger
against the latest one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.checkpoints.models import LedgerCheckpoint
from services.registry.checkpoints.signing import (
    CheckpointStatement,
    load_signing_key,
    public_key_text,
    sign_statement,
    signature_holds,
)
from services.registry.ledger.models import LedgerRecord
from services.registry.ledger.service import ledger_head
from services.registry.settings import RegistrySettings
from shared.db import utcnow

logger = structlog.get_logger(__name__)


def statement_of(checkpoint: LedgerCheckpoint) -> CheckpointStatement:
    return CheckpointStatement(
        record_count=checkpoint.record_count,
        head_sequence=checkpoint.head_sequence,
        head_hash=checkpoint.head_hash,
        signed_at=checkpoint.signed_at,
    )


async def take_checkpoint(
    session: AsyncSession, *, settings: RegistrySettings
) -> LedgerCheckpoint | None:
    """Sign the current head, unless it is empty or already checkpointed. Returns the new
    checkpoint, or None when there was nothing new to sign."""
    head = await ledger_head(session)
    if head is None:
        return None
    head_sequence, head_hash = head
    key_text = settings.checkpoint_signing_key
    key = load_signing_key(key_text.get_secret_value() if key_text else None)
    statement = CheckpointStatement(
        record_count=head_sequence,
        head_sequence=head_sequence,
        head_hash=head_hash,
        signed_at=utcnow(),
    )
    inserted = await session.scalar(
        insert(LedgerCheckpoint)
        .values(
            head_sequence=statement.head_sequence,
            record_count=statement.record_count,
            head_hash=statement.head_hash,
            signed_at=statement.signed_at,
            signature=sign_statement(statement, key=key),
            public_key=public_key_text(key),
        )
        .on_conflict_do_nothing(index_elements=[LedgerCheckpoint.head_sequence])
        .returning(LedgerCheckpoint)
    )
    if inserted is not None and settings.checkpoint_file is not None:
        publish_to_file(inserted, path=settings.checkpoint_file)
    return inserted


def publish_to_file(checkpoint: LedgerCheckpoint, *, path: Path) -> None:
    """Append the checkpoint as one JSON line: a copy outside the database, for auditors."""
    line = json.dumps(
        {
            "record_count": checkpoint.record_count,
            "head_sequence": checkpoint.head_sequence,
            "head_hash": checkpoint.head_hash,
            "signed_at": checkpoint.signed_at.isoformat(),
            "signature": checkpoint.signature,
            "public_key": checkpoint.public_key,
        },
        sort_keys=True,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as published:
        published.write(line + "\n")


async def recent_checkpoints(session: AsyncSession, *, limit: int) -> list[LedgerCheckpoint]:
    return list(
        (
            await session.scalars(
                select(LedgerCheckpoint)
                .order_by(LedgerCheckpoint.head_sequence.desc())
                .limit(limit)
            )
        ).all()
    )


@dataclass(frozen=True)
class CheckpointCheck:
    head_sequence: int
    signed_at: str
    holds: bool
    reason: str | None


async def check_latest_checkpoint(session: AsyncSession) -> CheckpointCheck | None:
    """Does the ledger still contain the head the latest checkpoint signed? A shorter ledger was
    truncated; a different hash at that sequence means the chain was rewritten."""
    newest = await recent_checkpoints(session, limit=1)
    if not newest:
        return None
    latest = newest[0]
    signed = latest.signed_at.isoformat()
    if not signature_holds(
        statement_of(latest), signature=latest.signature, public_key=latest.public_key
    ):
        return CheckpointCheck(
            latest.head_sequence, signed, False, "the checkpoint's signature does not verify"
        )
    stored_hash = await session.scalar(
        select(LedgerRecord.chain_hash).where(LedgerRecord.sequence == latest.head_sequence)
    )
    if stored_hash is None:
        return CheckpointCheck(
            latest.head_sequence,
            signed,
            False,
            f"truncated: the checkpoint signed at {signed} covers record {latest.head_sequence}, "
            "which the ledger no longer holds",
        )
    if stored_hash != latest.head_hash:
        return CheckpointCheck(
            latest.head_sequence,
            signed,
            False,
            f"rewritten: record {latest.head_sequence} no longer ends in the hash signed at {signed}",
        )
    return CheckpointCheck(latest.head_sequence, signed, True, None)
