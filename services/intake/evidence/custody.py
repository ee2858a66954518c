"""The custody log of an evidence file: each access or hand-over is a line chained by hash.

A line's hash is the SHA-256 of its canonical form (sorted-key JSON of the file's id and hash,
its number, action, actor, time, note and recipient) together with the previous line's hash; the first
line follows `GENESIS`. Changing, removing or reordering any line breaks every hash after it,
and the file's row keeps the last line's number and hash, so losing the tail shows too.

Appends lock the file's row first (`SELECT ... FOR UPDATE`), so two requests touching the same
file at once still write one line after the other; the unique (file, number) pair backs this.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.evidence.models import CustodyAction, CustodyLine, EvidenceFile

GENESIS = "0" * 64


def line_hash(
    *,
    evidence_file_id: uuid.UUID,
    evidence_sha256: str,
    sequence: int,
    action: str,
    actor: str,
    occurred_at: datetime,
    note: str | None,
    recipient: str | None,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        {
            "evidence_file_id": str(evidence_file_id),
            "evidence_sha256": evidence_sha256,
            "sequence": sequence,
            "action": action,
            "actor": actor,
            # Microseconds in UTC: what PostgreSQL's timestamptz gives back, whatever the zone.
            "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "note": note,
            "recipient": recipient,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def start_custody(evidence_file: EvidenceFile) -> None:
    """A new file's empty chain (call before its first line)."""
    evidence_file.custody_length = 0
    evidence_file.custody_head = GENESIS


async def lock_evidence_file(session: AsyncSession, evidence_file: EvidenceFile) -> None:
    """Take the file's row lock and refresh the chain's head, before appending to it."""
    await session.refresh(
        evidence_file, attribute_names=["custody_length", "custody_head"], with_for_update=True
    )


def append_custody_line(
    session: AsyncSession,
    *,
    evidence_file: EvidenceFile,
    action: CustodyAction,
    actor: str,
    occurred_at: datetime,
    note: str | None = None,
    recipient: str | None = None,
) -> CustodyLine:
    """Append one line to a file whose row this transaction has locked (or just created)."""
    sequence = evidence_file.custody_length + 1
    prev_hash = evidence_file.custody_head
    line = CustodyLine(
        evidence_file_id=evidence_file.id,
        sequence=sequence,
        action=action,
        actor=actor,
        occurred_at=occurred_at,
        note=note,
        recipient=recipient,
        prev_hash=prev_hash,
        line_hash=line_hash(
            evidence_file_id=evidence_file.id,
            evidence_sha256=evidence_file.sha256,
            sequence=sequence,
            action=action,
            actor=actor,
            occurred_at=occurred_at,
            note=note,
            recipient=recipient,
            prev_hash=prev_hash,
        ),
    )
    session.add(line)
    evidence_file.custody_length = sequence
    evidence_file.custody_head = line.line_hash
    return line


async def custody_lines(session: AsyncSession, *, evidence_file_id: uuid.UUID) -> list[CustodyLine]:
    return list(
        (
            await session.scalars(
                select(CustodyLine)
                .where(CustodyLine.evidence_file_id == evidence_file_id)
                .order_by(CustodyLine.sequence)
            )
        ).all()
    )


@dataclass(frozen=True)
class CustodyVerification:
    intact: bool
    lines_checked: int
    # The number of the first line that does not hold (one past the end if the tail is gone).
    first_bad_sequence: int | None = None
    problem: str | None = None


def verify_custody_chain(
    evidence_file: EvidenceFile, lines: list[CustodyLine]
) -> CustodyVerification:
    """Recompute the file's chain from its first line and name the first line that breaks it."""
    prev_hash = GENESIS
    for expected, line in enumerate(lines, start=1):
        if line.sequence != expected:
            return CustodyVerification(
                intact=False,
                lines_checked=expected - 1,
                first_bad_sequence=expected,
                problem=f"line {expected} is missing",
            )
        if line.prev_hash != prev_hash:
            return CustodyVerification(
                intact=False,
                lines_checked=expected - 1,
                first_bad_sequence=expected,
                problem=f"line {expected} does not follow line {expected - 1}",
            )
        recomputed = line_hash(
            evidence_file_id=evidence_file.id,
            evidence_sha256=evidence_file.sha256,
            sequence=line.sequence,
            action=line.action,
            actor=line.actor,
            occurred_at=line.occurred_at,
            note=line.note,
            recipient=line.recipient,
            prev_hash=line.prev_hash,
        )
        if recomputed != line.line_hash:
            return CustodyVerification(
                intact=False,
                lines_checked=expected - 1,
                first_bad_sequence=expected,
                problem=f"line {expected} was changed after it was written",
            )
        prev_hash = line.line_hash
    if len(lines) != evidence_file.custody_length or prev_hash != evidence_file.custody_head:
        return CustodyVerification(
            intact=False,
            lines_checked=len(lines),
            first_bad_sequence=len(lines) + 1,
            problem=f"the log ends at line {len(lines)} but the file records "
            f"{evidence_file.custody_length} lines",
        )
    return CustodyVerification(intact=True, lines_checked=len(lines))
