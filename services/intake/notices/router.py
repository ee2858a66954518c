"""Notice endpoints for a department's portal, acting on the employee's behalf: read the
notices served on the department's employees, acknowledge receipt, reply or ask for more time.
Another department's notice is a 404, as is one that does not exist."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.intake.clients.auth import department_client
from services.intake.clients.models import ClientCredential
from services.intake.idempotency.routing import IntakeRoute
from services.intake.notices import service
from services.intake.notices.errors import NoticeAnswered, NoticeNotFound
from services.intake.notices.models import ServedNotice
from services.intake.notices.schemas import (
    NoticeEventRead,
    NoticeList,
    NoticeRead,
    NoticeSummary,
    ReplyAccepted,
    ReplyCreate,
    ReplyRead,
)
from shared.errors import Forbidden, InvalidInput, PayloadTooLarge, Unauthenticated, responses_for
from shared.http import CorrelationIdHeader, DbSession
from shared.ratelimit import TooManyRequests

# IntakeRoute: every POST here honours Idempotency-Key.
router = APIRouter(prefix="/v1/notices", tags=["notices"], route_class=IntakeRoute)

NoticeHandler = Annotated[ClientCredential, Depends(department_client("notices:respond"))]


async def read_notice(session: DbSession, notice: ServedNotice) -> NoticeRead:
    return NoticeRead(
        **NoticeSummary.model_validate(notice).model_dump(),
        department=notice.department,
        content=notice.content,
        replies=[
            ReplyRead(
                id=answer.id,
                kind="reply" if answer.statement is not None else "extension_request",
                status=answer.status,
                outcome=answer.outcome,
                statement=answer.statement,
                representative=answer.representative,
                attachment_ids=answer.attachment_ids,
                hearing_requested=answer.hearing_requested,
                extension_reason=answer.extension_reason,
                extension_working_days=answer.extension_working_days,
                submitted_at=answer.submitted_at,
                decided_at=answer.decided_at,
            )
            for answer in await service.answers_to(session, notice=notice)
        ],
        history=[
            NoticeEventRead.model_validate(event)
            for event in await service.history_of(session, notice=notice)
        ],
    )


@router.get(
    "",
    response_model=NoticeList,
    responses=responses_for(Unauthenticated, Forbidden, TooManyRequests),
)
async def list_notices(
    client: NoticeHandler,
    session: DbSession,
    employee_ref: Annotated[
        str | None, Query(max_length=64, description="Only this employee's notices")
    ] = None,
) -> NoticeList:
    """Notices served on the department's employees, newest first (at most 200)."""
    notices = await service.list_notices(
        session, department=client.organisation_code, employee_ref=employee_ref
    )
    return NoticeList(items=[NoticeSummary.model_validate(notice) for notice in notices])


@router.get(
    "/{notice_id}",
    response_model=NoticeRead,
    responses=responses_for(Unauthenticated, Forbidden, NoticeNotFound, TooManyRequests),
)
async def get_notice(notice_id: uuid.UUID, client: NoticeHandler, session: DbSession) -> NoticeRead:
    """One notice as the unit served it, its status and reply date, every answer sent with
    its outcome (a refused reply says why), and its history."""
    notice = await service.department_notice(
        session, notice_id=notice_id, department=client.organisation_code
    )
    return await read_notice(session, notice)


@router.post(
    "/{notice_id}/receipt",
    response_model=NoticeRead,
    responses=responses_for(Unauthenticated, Forbidden, NoticeNotFound, TooManyRequests),
)
async def acknowledge_receipt(
    notice_id: uuid.UUID,
    client: NoticeHandler,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
) -> NoticeRead:
    """The employee received the notice: the receipt time goes onto the case. A second
    acknowledgement changes nothing."""
    notice = await service.department_notice(
        session, notice_id=notice_id, department=client.organisation_code, lock=True
    )
    await service.acknowledge_receipt(session, notice=notice, correlation_id=correlation_id)
    return await read_notice(session, notice)


@router.post(
    "/{notice_id}/replies",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplyAccepted,
    responses=responses_for(
        Unauthenticated,
        Forbidden,
        NoticeNotFound,
        NoticeAnswered,
        InvalidInput,
        PayloadTooLarge,
        TooManyRequests,
    ),
)
async def submit_reply(
    notice_id: uuid.UUID,
    reply_in: ReplyCreate,
    client: NoticeHandler,
    session: DbSession,
    correlation_id: CorrelationIdHeader,
    response: Response,
) -> ReplyAccepted:
    """The employee's reply: `statement`, optionally a `representative` (name, designation,
    relationship), `attachments` (ids of evidence files this portal uploaded) and
    `request_hearing`. Or, with no statement, a request for more time: `extension` (reason and
    working days), which the unit's chair decides.

    Answers 202: the monitoring unit records the reply, or refuses it (after the window
    closed), and the notice's status and this answer's `status` and `outcome` say which. Send
    an `Idempotency-Key` to make retries safe."""
    notice = await service.department_notice(
        session, notice_id=notice_id, department=client.organisation_code, lock=True
    )
    reply = await service.submit_reply(
        session, notice=notice, reply_in=reply_in, client=client, correlation_id=correlation_id
    )
    notice_url = f"/v1/notices/{notice.id}"
    response.headers["Location"] = notice_url
    return ReplyAccepted(id=reply.id, status=reply.status, notice_url=notice_url)
