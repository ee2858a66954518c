"""Report endpoints for departmental portals."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from services.intake.clients.auth import department_client
from services.intake.clients.models import ClientCredential
from services.intake.idempotency.routing import IntakeRoute
from services.intake.reports import service
from services.intake.reports.schemas import (
    EvidenceRead,
    ReportAccepted,
    ReportCreate,
    ReportRead,
    StatusEventRead,
    SubjectRead,
)
from services.intake.settings import IntakeSettings, current_settings
from services.intake.submissions.status import status_history
from shared.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    responses_for,
)
from shared.http import CorrelationIdHeader, DbSession
from shared.ratelimit import TooManyRequests

# IntakeRoute: every POST here honours Idempotency-Key.
router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=IntakeRoute)

ReportWriter = Annotated[ClientCredential, Depends(department_client("reports:write"))]
StatusReader = Annotated[ClientCredential, Depends(department_client("status:read"))]
Settings = Annotated[IntakeSettings, Depends(current_settings)]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportAccepted,
    responses=responses_for(
        Unauthenticated, Forbidden, InvalidInput, PayloadTooLarge, TooManyRequests
    ),
)
async def submit_report(
    report_in: ReportCreate,
    client: ReportWriter,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
    response: Response,
) -> ReportAccepted:
    """Submit a report of a suspected breach. The department is the credential's own.

    Answers 202 with the report's id once it is stored, and its status URL in `Location`;
    review opens a case from it. A report that repeats an open one of the department (the same
    subjects and the same content link or snapshot, within the duplicate window) is stored
    linked to it instead: status "linked", `duplicate_of` naming the open report, and no second
    case. Send an `Idempotency-Key` to make retries safe.
    """
    report = await service.accept_report(
        session,
        report_in=report_in,
        client=client,
        settings=settings,
        correlation_id=correlation_id,
    )
    status_url = f"/v1/reports/{report.id}"
    response.headers["Location"] = status_url
    return ReportAccepted(
        id=report.id,
        status=report.status,
        status_url=status_url,
        duplicate_of=report.duplicate_of,
    )


@router.get(
    "/{report_id}",
    response_model=ReportRead,
    responses=responses_for(Unauthenticated, Forbidden, NotFound, TooManyRequests),
)
async def read_report(report_id: uuid.UUID, client: StatusReader, session: DbSession) -> ReportRead:
    """A report of the caller's department, with its status history."""
    report = await service.get_department_report(
        session, report_id=report_id, department=client.organisation_code
    )
    return ReportRead(
        id=report.id,
        department=report.department,
        platform=report.platform,
        content_excerpt=report.content_excerpt,
        content_url=report.content_url,
        posted_at=report.posted_at,
        rules_alleged=report.rules_alleged,
        subjects=[SubjectRead.model_validate(subject) for subject in report.subjects],
        evidence=[EvidenceRead.model_validate(item) for item in report.evidence],
        status=report.status,
        received_at=report.received_at,
        duplicate_of=report.duplicate_of,
        status_history=[
            StatusEventRead.model_validate(event)
            for event in await status_history(session, submission_id=report.id)
        ],
    )
