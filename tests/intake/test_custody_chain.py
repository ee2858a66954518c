"""The custody chain's verification on its own: an intact chain holds, and the first changed,
missing or reordered line is named."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.intake.evidence.custody import (
    GENESIS,
    append_custody_line,
    start_custody,
    verify_custody_chain,
)
from services.intake.evidence.models import CustodyLine, EvidenceFile


class _Collector:
    """Stands in for the session's add(): the chain is pure computation."""

    def __init__(self) -> None:
        self.lines: list[CustodyLine] = []

    def add(self, line: CustodyLine) -> None:
        self.lines.append(line)


def chain_of(length: int) -> tuple[EvidenceFile, list[CustodyLine]]:
    evidence_file = EvidenceFile(id=uuid.uuid4(), sha256="ab" * 32)
    start_custody(evidence_file)
    collector = _Collector()
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for index in range(length):
        append_custody_line(
            collector,  # type: ignore[arg-type]  # only add() is used
            evidence_file=evidence_file,
            action="uploaded" if index == 0 else "read",
            actor="client:ck_test",
            occurred_at=start + timedelta(minutes=index),
            note=None if index == 0 else f"reading {index}",
        )
    return evidence_file, collector.lines


def test_an_untouched_chain_holds() -> None:
    evidence_file, lines = chain_of(4)
    assert lines[0].prev_hash == GENESIS
    verification = verify_custody_chain(evidence_file, lines)
    assert verification.intact and verification.lines_checked == 4
    assert verification.first_bad_sequence is None


def test_a_changed_line_is_named() -> None:
    evidence_file, lines = chain_of(4)
    lines[2].note = "nothing to see"
    verification = verify_custody_chain(evidence_file, lines)
    assert not verification.intact
    assert verification.first_bad_sequence == 3
    assert verification.problem == "line 3 was changed after it was written"


def test_a_line_rehashed_after_a_change_breaks_the_next_one() -> None:
    evidence_file, lines = chain_of(4)
    lines[1].occurred_at += timedelta(hours=1)
    lines[1].line_hash = "f" * 64
    verification = verify_custody_chain(evidence_file, lines)
    assert verification.first_bad_sequence == 2


def test_a_removed_line_is_named() -> None:
    evidence_file, lines = chain_of(4)
    del lines[1]
    assert verify_custody_chain(evidence_file, lines).first_bad_sequence == 2


def test_a_removed_last_line_is_noticed() -> None:
    evidence_file, lines = chain_of(4)
    verification = verify_custody_chain(evidence_file, lines[:3])
    assert not verification.intact
    assert verification.first_bad_sequence == 4


def test_a_chain_moved_to_another_file_does_not_hold() -> None:
    evidence_file, lines = chain_of(2)
    evidence_file.sha256 = "cd" * 32
    assert verify_custody_chain(evidence_file, lines).first_bad_sequence == 1
