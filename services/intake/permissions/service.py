"""Accepting permission requests, personal or for an official account, and finding a
department's own."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.intake.clients.models import ClientCredential
from services.intake.permissions.models import AccountModerator, PermissionRequest
from services.intake.permissions.schemas import PermissionRequestCreate
from services.intake.submissions.status import start_status
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput, NotFound
from shared.messages import AccountModerator as ModeratorMessage
from shared.messages import PermissionApplicant, PermissionRequested
from shared.outbox import stage_message


def kind_problems(request_in: PermissionRequestCreate) -> list[FieldProblem]:
    """What a request of its kind lacks or must not carry: a personal request is one employee's
    and has no moderators; an official account is the department's, says what it is for and
    names who moderates it."""
    if request_in.kind == "personal":
        problems = []
        if request_in.applicant is None:
            problems.append(
                FieldProblem(field="applicant", message="required for a personal request")
            )
        if request_in.moderators:
            problems.append(
                FieldProblem(field="moderators", message="only for an official account")
            )
        if request_in.account_purpose is not None:
            problems.append(
                FieldProblem(field="account_purpose", message="only for an official account")
            )
        return problems
    problems = []
    if request_in.account_purpose is None:
        problems.append(
            FieldProblem(field="account_purpose", message="required for an official account")
        )
    if not request_in.moderators:
        problems.append(
            FieldProblem(
                field="moderators",
                message="an official account needs at least one moderator to remove offensive "
                "remarks",
            )
        )
    if request_in.applicant is not None:
        problems.append(
            FieldProblem(
                field="applicant",
                message="not part of an official account request: the department asks",
            )
        )
    return problems


async def accept_permission_request(
    session: AsyncSession,
    *,
    request_in: PermissionRequestCreate,
    client: ClientCredential,
    correlation_id: str,
) -> PermissionRequest:
    """Store the request and stage permission.requested in the same transaction."""
    problems = kind_problems(request_in)
    if problems:
        raise InvalidInput(
            f"A {request_in.kind} permission request is not complete as sent.", errors=problems
        )
    now = utcnow()
    applicant = request_in.applicant
    request = PermissionRequest(
        id=uuid.uuid4(),
        department=client.organisation_code,
        client_credential_id=client.id,
        kind=request_in.kind,
        platform=request_in.platform,
        account_handle=request_in.account_handle,
        account_url=str(request_in.account_url) if request_in.account_url else None,
        purpose=request_in.purpose,
        account_purpose=request_in.account_purpose,
        applicant_employee_ref=applicant.employee_ref if applicant else None,
        applicant_name=applicant.name if applicant else None,
        applicant_designation=applicant.designation if applicant else None,
        applicant_office=applicant.office if applicant else None,
        renewal_of=request_in.renewal_of,
        status="received",
        status_changed_at=now,
        received_at=now,
    )
    session.add(request)
    await session.flush()
    session.add_all(
        [
            AccountModerator(
                permission_request_id=request.id, position=position, **moderator.model_dump()
            )
            for position, moderator in enumerate(request_in.moderators)
        ]
    )
    start_status(session, submission_id=request.id, status="received", occurred_at=now)
    await stage_message(
        session,
        PermissionRequested(
            request_id=request.id,
            kind=request_in.kind,
            department=request.department,
            platform=request.platform,
            account_handle=request.account_handle,
            account_url=request.account_url,
            purpose=request.purpose,
            account_purpose=request_in.account_purpose,
            moderators=[ModeratorMessage(**m.model_dump()) for m in request_in.moderators],
            applicant=(
                PermissionApplicant(**request_in.applicant.model_dump())
                if request_in.applicant
                else None
            ),
            renewal_of=request.renewal_of,
            received_at=request.received_at,
        ),
        producer="intake",
        correlation_id=correlation_id,
    )
    await session.flush()
    return request


async def get_department_permission_request(
    session: AsyncSession, *, request_id: uuid.UUID, department: str
) -> PermissionRequest:
    """The request if it belongs to the department; 404 otherwise, whether or not it exists."""
    request = await session.scalar(
        select(PermissionRequest)
        .where(PermissionRequest.id == request_id, PermissionRequest.department == department)
        .options(selectinload(PermissionRequest.moderators))
    )
    if request is None:
        raise NotFound(f"No permission request {request_id} for this department.")
    return request
