"""Receiving evidence snapshots, reading them, and logging each access in their custody chain.

An upload streams into the evidence store's staging area while it is counted and hashed, so no
more than the cap is ever held or written; its type is judged from its first bytes, and it is
published under its SHA-256 only once it has passed every check. The row and the first custody
line are written in the request's transaction. (If that transaction then fails, the published
bytes stay unreferenced in the store: harmless, since the store is content-addressed, and the
same upload again reuses them.)
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.clients.models import ClientCredential
from services.intake.evidence.custody import (
    CustodyVerification,
    append_custody_line,
    custody_lines,
    start_custody,
    verify_custody_chain,
)
from services.intake.evidence.errors import (
    EvidenceContentMissing,
    EvidenceFileNotFound,
    EvidenceStoreUnavailable,
    UnsupportedSnapshotType,
)
from services.intake.evidence.media_types import (
    ACCEPTED_MEDIA_TYPES,
    SNIFF_BYTES,
    declared_media_type,
    describe_refused,
    sniff_media_type,
)
from services.intake.evidence.models import CustodyLine, EvidenceFile
from services.intake.evidence.storage import EvidenceStorage
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput, PayloadTooLarge

ACCEPTED_LIST = ", ".join(ACCEPTED_MEDIA_TYPES)


def client_actor(client: ClientCredential) -> str:
    """How a portal's credential appears in a custody line (key ids are safe to show)."""
    return f"client:{client.key_id}"


def check_snapshot_type(header: bytes, *, declared: str) -> None:
    """The content must be one of the accepted types, and the one it was labelled."""
    sniffed = sniff_media_type(header)
    if sniffed is None:
        raise UnsupportedSnapshotType(
            f"The content is {describe_refused(header)}, not a snapshot of an accepted type "
            f"({ACCEPTED_LIST}). Archives and compressed files are refused; send the screenshot, "
            "PDF or HTML page itself.",
            errors=[FieldProblem(field="body", message="content of no accepted type")],
        )
    if sniffed != declared:
        raise UnsupportedSnapshotType(
            f"The upload is labelled {declared} but its content is {sniffed}.",
            errors=[
                FieldProblem(field="Content-Type", message=f"the content is {sniffed}"),
            ],
        )


async def receive_snapshot(
    session: AsyncSession,
    *,
    chunks: AsyncIterable[bytes],
    content_type: str | None,
    client: ClientCredential,
    storage: EvidenceStorage,
    max_bytes: int,
) -> EvidenceFile:
    """Store an uploaded snapshot and open its custody log with an 'uploaded' line."""
    declared = declared_media_type(content_type)
    if declared not in ACCEPTED_MEDIA_TYPES:
        raise UnsupportedSnapshotType(
            f"Content-Type '{declared or 'none'}' is not accepted; send one of {ACCEPTED_LIST}.",
            errors=[FieldProblem(field="Content-Type", message="not an accepted snapshot type")],
        )
    try:
        sha256, size = await _stage_and_publish(
            chunks=chunks, declared=declared, storage=storage, max_bytes=max_bytes
        )
    except OSError as exc:
        raise EvidenceStoreUnavailable(
            "The evidence store refused the snapshot; nothing was kept. Retry later.",
            headers={"Retry-After": "30"},
        ) from exc
    now = utcnow()
    evidence_file = EvidenceFile(
        id=uuid.uuid4(),
        department=client.organisation_code,
        client_credential_id=client.id,
        sha256=sha256,
        size_bytes=size,
        media_type=declared,
        uploaded_at=now,
    )
    start_custody(evidence_file)
    session.add(evidence_file)
    await session.flush()
    append_custody_line(
        session,
        evidence_file=evidence_file,
        action="uploaded",
        actor=client_actor(client),
        occurred_at=now,
    )
    await session.flush()
    return evidence_file


async def _stage_and_publish(
    *,
    chunks: AsyncIterable[bytes],
    declared: str,
    storage: EvidenceStorage,
    max_bytes: int,
) -> tuple[str, int]:
    """Stream the upload into the store, checking as it goes; its hash and size once kept."""
    digest = hashlib.sha256()
    size = 0
    header = b""
    type_checked = False
    async with storage.stage() as staged:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"The snapshot exceeds the limit of {max_bytes} bytes.")
            if not type_checked:
                header += chunk[: SNIFF_BYTES - len(header)]
                if len(header) >= SNIFF_BYTES:
                    # Refuse a wrong type at once, without reading the rest of it.
                    check_snapshot_type(header, declared=declared)
                    type_checked = True
            digest.update(chunk)
            await staged.write(chunk)
        if size == 0:
            raise InvalidInput(
                "The upload is empty.",
                errors=[FieldProblem(field="body", message="no bytes were sent")],
            )
        if not type_checked:
            check_snapshot_type(header, declared=declared)
        sha256 = digest.hexdigest()
        await staged.publish(sha256)
    return sha256, size


async def locked_department_file(
    session: AsyncSession, *, evidence_file_id: uuid.UUID, department: str
) -> EvidenceFile:
    """The department's file, its row locked for a custody append; 404 for anyone else's."""
    evidence_file = await session.scalar(
        select(EvidenceFile)
        .where(EvidenceFile.id == evidence_file_id, EvidenceFile.department == department)
        .with_for_update()
    )
    if evidence_file is None:
        raise EvidenceFileNotFound(f"No evidence file {evidence_file_id} for this department.")
    return evidence_file


async def read_evidence_file(
    session: AsyncSession, *, evidence_file_id: uuid.UUID, client: ClientCredential
) -> tuple[EvidenceFile, list[CustodyLine], CustodyVerification]:
    """The file, its custody log (this reading included) and whether the chain holds."""
    evidence_file = await locked_department_file(
        session, evidence_file_id=evidence_file_id, department=client.organisation_code
    )
    append_custody_line(
        session,
        evidence_file=evidence_file,
        action="read",
        actor=client_actor(client),
        occurred_at=utcnow(),
        note="metadata and custody log",
    )
    await session.flush()
    lines = await custody_lines(session, evidence_file_id=evidence_file.id)
    return evidence_file, lines, verify_custody_chain(evidence_file, lines)


async def open_evidence_content(
    session: AsyncSession,
    *,
    evidence_file_id: uuid.UUID,
    client: ClientCredential,
    storage: EvidenceStorage,
) -> EvidenceFile:
    """Log that the file's bytes are being handed to the caller; the route streams them."""
    evidence_file = await locked_department_file(
        session, evidence_file_id=evidence_file_id, department=client.organisation_code
    )
    try:
        held = await storage.holds(evidence_file.sha256)
    except OSError as exc:
        raise EvidenceStoreUnavailable(
            "The evidence store cannot be read; retry later.", headers={"Retry-After": "30"}
        ) from exc
    if not held:
        raise EvidenceContentMissing(
            f"The evidence store has no bytes for file {evidence_file_id}; tell the operator."
        )
    append_custody_line(
        session,
        evidence_file=evidence_file,
        action="read",
        actor=client_actor(client),
        occurred_at=utcnow(),
        note="content",
    )
    await session.flush()
    return evidence_file


async def hand_over_evidence_file(
    session: AsyncSession,
    *,
    evidence_file_id: uuid.UUID,
    client: ClientCredential,
    recipient: str,
    note: str | None,
) -> CustodyLine:
    """Record that the portal handed the item to someone: a 'handed_over' custody line."""
    evidence_file = await locked_department_file(
        session, evidence_file_id=evidence_file_id, department=client.organisation_code
    )
    line = append_custody_line(
        session,
        evidence_file=evidence_file,
        action="handed_over",
        actor=client_actor(client),
        occurred_at=utcnow(),
        note=note,
        recipient=recipient,
    )
    await session.flush()
    return line


async def verify_evidence_custody(
    session: AsyncSession, *, evidence_file_id: uuid.UUID
) -> CustodyVerification:
    """Recompute one file's custody chain (for auditors and operators; logs nothing)."""
    evidence_file = await session.get(EvidenceFile, evidence_file_id)
    if evidence_file is None:
        raise EvidenceFileNotFound(f"No evidence file {evidence_file_id}.")
    lines = await custody_lines(session, evidence_file_id=evidence_file_id)
    return verify_custody_chain(evidence_file, lines)


async def attach_snapshots(
    session: AsyncSession,
    *,
    snapshot_file_ids: dict[int, uuid.UUID],
    report_id: uuid.UUID,
    client: ClientCredential,
) -> dict[uuid.UUID, EvidenceFile]:
    """Log that a report's evidence items (by position) now hold these snapshots.

    Each must be a file of the caller's own department; any other (unknown, or another
    department's, which the caller cannot tell apart) is refused with 422 naming the item.
    The rows are locked in id order, so reports naming the same files never deadlock.
    """
    wanted = sorted(set(snapshot_file_ids.values()))
    found = {
        evidence_file.id: evidence_file
        for evidence_file in (
            await session.scalars(
                select(EvidenceFile)
                .where(
                    EvidenceFile.id.in_(wanted),
                    EvidenceFile.department == client.organisation_code,
                )
                .order_by(EvidenceFile.id)
                .with_for_update()
            )
        ).all()
    }
    unknown = [
        FieldProblem(
            field=f"evidence.{position}.snapshot_file_id",
            message=f"no uploaded snapshot {file_id} of this department",
        )
        for position, file_id in sorted(snapshot_file_ids.items())
        if file_id not in found
    ]
    if unknown:
        raise InvalidInput("Some evidence names a snapshot that is not yours.", errors=unknown)
    now = utcnow()
    for position, file_id in sorted(snapshot_file_ids.items()):
        append_custody_line(
            session,
            evidence_file=found[file_id],
            action="attached",
            actor=client_actor(client),
            occurred_at=now,
            note=f"evidence {position} of report {report_id}",
        )
    return found
