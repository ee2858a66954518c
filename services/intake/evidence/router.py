"""Evidence snapshot files for departmental portals: upload first, then name the file's id in a
report's evidence. Every read is written to the file's custody log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import StreamingResponse

from services.intake.clients.auth import department_client
from services.intake.clients.models import ClientCredential
from services.intake.evidence import service
from services.intake.evidence.errors import (
    EvidenceContentMissing,
    EvidenceFileNotFound,
    EvidenceStoreUnavailable,
    UnsupportedSnapshotType,
)
from services.intake.evidence.media_types import ACCEPTED_MEDIA_TYPES
from services.intake.evidence.schemas import (
    CustodyLineRead,
    CustodyRead,
    EvidenceFileRead,
    EvidenceFileStored,
    HandOverCreate,
)
from services.intake.evidence.storage import EvidenceStorage, evidence_storage
from services.intake.idempotency.routing import IntakeRoute
from services.intake.settings import IntakeSettings, current_settings
from shared.errors import (
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    Unauthenticated,
    responses_for,
)
from shared.http import DbSession
from shared.ratelimit import TooManyRequests

UPLOAD_PATH = "/v1/evidence-files"

router = APIRouter(prefix=UPLOAD_PATH, tags=["evidence"], route_class=IntakeRoute)

# Evidence is the reporting portal's: the same scope uploads it and reads it back.
EvidenceHandler = Annotated[ClientCredential, Depends(department_client("reports:write"))]
Settings = Annotated[IntakeSettings, Depends(current_settings)]


async def configured_storage(settings: Settings) -> EvidenceStorage:
    return evidence_storage(settings)


Storage = Annotated[EvidenceStorage, Depends(configured_storage)]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in ACCEPTED_MEDIA_TYPES
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceFileStored,
    openapi_extra=UPLOAD_BODY,
    responses=responses_for(
        Unauthenticated,
        Forbidden,
        InvalidInput,
        PayloadTooLarge,
        UnsupportedSnapshotType,
        EvidenceStoreUnavailable,
        TooManyRequests,
    ),
)
async def upload_evidence_file(
    request: Request,
    client: EvidenceHandler,
    session: DbSession,
    settings: Settings,
    storage: Storage,
    response: Response,
    content_type: Annotated[str | None, Header()] = None,
) -> EvidenceFileStored:
    """Upload one snapshot (a PNG or JPEG screenshot, a PDF, a saved HTML page) as the raw body,
    labelled with its Content-Type.

    The type is judged from the bytes and must match the label, else 415; archives and
    compressed files are refused. Bodies over the configured cap (INTAKE_EVIDENCE_MAX_BYTES,
    10 MiB by default) get 413 and nothing is kept. Answers 201 with the file's id, SHA-256,
    size and type; name the id as `snapshot_file_id` in a report's evidence. Links in reports
    are never fetched by the server: a snapshot reaches it only by upload.
    """
    evidence_file = await service.receive_snapshot(
        session,
        chunks=request.stream(),
        content_type=content_type,
        client=client,
        storage=storage,
        max_bytes=settings.evidence_max_bytes,
    )
    response.headers["Location"] = f"{UPLOAD_PATH}/{evidence_file.id}"
    return EvidenceFileStored.model_validate(evidence_file)


@router.get(
    "/{evidence_file_id}",
    response_model=EvidenceFileRead,
    responses=responses_for(Unauthenticated, Forbidden, EvidenceFileNotFound, TooManyRequests),
)
async def read_evidence_file(
    evidence_file_id: uuid.UUID, client: EvidenceHandler, session: DbSession
) -> EvidenceFileRead:
    """A snapshot file of the caller's department with its custody log, checked line by line
    (`custody.intact`, and the first line that does not hold). This reading is logged too."""
    evidence_file, lines, verification = await service.read_evidence_file(
        session, evidence_file_id=evidence_file_id, client=client
    )
    return EvidenceFileRead(
        **EvidenceFileStored.model_validate(evidence_file).model_dump(),
        content_url=f"{UPLOAD_PATH}/{evidence_file.id}/content",
        custody=CustodyRead(
            intact=verification.intact,
            first_bad_sequence=verification.first_bad_sequence,
            problem=verification.problem,
            lines=[CustodyLineRead.model_validate(line) for line in lines],
        ),
    )


@router.get(
    "/{evidence_file_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {media_type: {} for media_type in ACCEPTED_MEDIA_TYPES}},
        **responses_for(
            Unauthenticated,
            Forbidden,
            EvidenceFileNotFound,
            EvidenceContentMissing,
            EvidenceStoreUnavailable,
            TooManyRequests,
        ),
    },
)
async def read_evidence_content(
    evidence_file_id: uuid.UUID, client: EvidenceHandler, session: DbSession, storage: Storage
) -> StreamingResponse:
    """The snapshot's bytes, as uploaded. Served as a download that no browser renders in the
    API's origin (a saved HTML page could carry scripts). The hand-over is logged."""
    evidence_file = await service.open_evidence_content(
        session, evidence_file_id=evidence_file_id, client=client, storage=storage
    )
    return StreamingResponse(
        storage.read(evidence_file.sha256),
        media_type=evidence_file.media_type,
        headers={
            "Content-Length": str(evidence_file.size_bytes),
            "Content-Disposition": f'attachment; filename="{evidence_file.id}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "ETag": f'"{evidence_file.sha256}"',
        },
    )


@router.post(
    "/{evidence_file_id}/hand-overs",
    status_code=status.HTTP_201_CREATED,
    response_model=CustodyLineRead,
    responses=responses_for(
        Unauthenticated, Forbidden, EvidenceFileNotFound, InvalidInput, TooManyRequests
    ),
)
async def hand_over_evidence_file(
    evidence_file_id: uuid.UUID,
    hand_over: HandOverCreate,
    client: EvidenceHandler,
    session: DbSession,
) -> CustodyLineRead:
    """Record that the item was handed to someone (a monitoring unit, an inquiry officer, a
    court): a 'handed_over' line of its custody log, naming the recipient."""
    line = await service.hand_over_evidence_file(
        session,
        evidence_file_id=evidence_file_id,
        client=client,
        recipient=hand_over.recipient,
        note=hand_over.note,
    )
    return CustodyLineRead.model_validate(line)
