"""Permission-request endpoints for departmental portals."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from services.intake.clients.auth import department_client
from services.intake.clients.models import ClientCredential
from services.intake.idempotency.routing import IntakeRoute
from services.intake.permissions import service
from services.intake.permissions.schemas import (
    ApplicantRead,
    ModeratorRead,
    PermissionRequestAccepted,
    PermissionRequestCreate,
    PermissionRequestRead,
)
from services.intake.reports.schemas import StatusEventRead
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
router = APIRouter(
    prefix="/v1/permission-requests", tags=["permission requests"], route_class=IntakeRoute
)

PermissionWriter = Annotated[ClientCredential, Depends(department_client("permissions:write"))]
StatusReader = Annotated[ClientCredential, Depends(department_client("status:read"))]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PermissionRequestAccepted,
    responses=responses_for(
        Unauthenticated, Forbidden, InvalidInput, PayloadTooLarge, TooManyRequests
    ),
)
async def submit_permission_request(
    request_in: PermissionRequestCreate,
    client: PermissionWriter,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
    response: Response,
) -> PermissionRequestAccepted:
    """Ask for permission to use social media: `personal` (an employee, one platform and
    account, with a purpose) or `official_account` (the department runs an account, says what
    it is for and names its moderators). The department is the credential's own.

    Answers 202 with the request's id once it is stored, and its status URL in `Location`; a
    monitoring unit decides it. Send an `Idempotency-Key` to make retries safe.
    """
    request = await service.accept_permission_request(
        session, request_in=request_in, client=client, correlation_id=correlation_id
    )
    status_url = f"/v1/permission-requests/{request.id}"
    response.headers["Location"] = status_url
    return PermissionRequestAccepted(id=request.id, status=request.status, status_url=status_url)


@router.get(
    "/{request_id}",
    response_model=PermissionRequestRead,
    responses=responses_for(Unauthenticated, Forbidden, NotFound, TooManyRequests),
)
async def read_permission_request(
    request_id: uuid.UUID, client: StatusReader, session: DbSession
) -> PermissionRequestRead:
    """A permission request of the caller's department, with its status history."""
    request = await service.get_department_permission_request(
        session, request_id=request_id, department=client.organisation_code
    )
    applicant = (
        ApplicantRead(
            employee_ref=request.applicant_employee_ref,
            name=request.applicant_name or "",
            designation=request.applicant_designation or "",
            office=request.applicant_office or "",
        )
        if request.applicant_employee_ref is not None
        else None
    )
    return PermissionRequestRead(
        id=request.id,
        kind=request.kind,
        department=request.department,
        platform=request.platform,
        account_handle=request.account_handle,
        account_url=request.account_url,
        purpose=request.purpose,
        account_purpose=request.account_purpose,
        applicant=applicant,
        moderators=[ModeratorRead.model_validate(moderator) for moderator in request.moderators],
        renewal_of=request.renewal_of,
        status=request.status,
        received_at=request.received_at,
        status_history=[
            StatusEventRead.model_validate(event)
            for event in await status_history(session, submission_id=request.id)
        ],
    )
