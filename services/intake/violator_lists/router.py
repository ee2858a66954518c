"""Violator-list endpoints for MTI systems: post a list (CSV or JSON), read its result."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.intake.clients.auth import institution_client
from services.intake.clients.models import ClientCredential
from services.intake.idempotency.routing import IntakeRoute
from services.intake.settings import IntakeSettings, current_settings
from services.intake.violator_lists import service
from services.intake.violator_lists.errors import (
    BatchNotFound,
    ListTooLong,
    ListUnreadable,
    UnsupportedListType,
)
from services.intake.violator_lists.models import ViolatorListBatch
from services.intake.violator_lists.schemas import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    BatchRead,
    EntriesPage,
    EntryRead,
    RejectedRow,
    RejectionsPage,
    ViolatorListPost,
)
from shared.db import BIGINT_MAX
from shared.errors import (
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    Unauthenticated,
    responses_for,
)
from shared.http import CorrelationIdHeader, DbSession
from shared.ratelimit import TooManyRequests

PATH = "/v1/violator-lists"
# The batch answer shows this many rejected rows; the rest are paged on its rejections URL.
REJECTED_ROWS_SHOWN = 100

router = APIRouter(prefix=PATH, tags=["violator lists"], route_class=IntakeRoute)

ListWriter = Annotated[ClientCredential, Depends(institution_client("violator-lists:write"))]
StatusReader = Annotated[ClientCredential, Depends(institution_client("status:read"))]
Settings = Annotated[IntakeSettings, Depends(current_settings)]

CSV_DESCRIPTION = (
    "UTF-8 CSV with a header row naming the columns, in any order. Required: "
    + ", ".join(REQUIRED_COLUMNS)
    + ". Optional (blank = default): "
    + ", ".join(OPTIONAL_COLUMNS)
    + ". The batch key goes in the `batch_key` query parameter."
)


def json_list_schema() -> dict[str, Any]:
    """ViolatorListPost's schema with its row inlined: a `$defs` reference would not resolve
    from inside the OpenAPI document."""
    schema = ViolatorListPost.model_json_schema()
    row = schema.pop("$defs")["ViolatorListRow"]
    schema["properties"]["rows"]["items"] = row
    return schema


REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": json_list_schema()},
            "text/csv": {
                "schema": {"type": "string", "description": CSV_DESCRIPTION},
            },
        },
    }
}


def batch_read(batch: ViolatorListBatch) -> BatchRead:
    url = f"{PATH}/{batch.id}"
    shown = batch.rejections[:REJECTED_ROWS_SHOWN]
    return BatchRead(
        id=batch.id,
        batch_key=batch.batch_key,
        institution=batch.institution,
        status="processed",
        source_format=batch.source_format,
        received_at=batch.received_at,
        total_rows=batch.total_rows,
        accepted=batch.accepted_rows,
        rejected=batch.rejected_rows,
        rejected_rows=[RejectedRow.model_validate(row) for row in shown],
        rejected_rows_complete=len(shown) == batch.rejected_rows,
        status_url=url,
        rejections_url=f"{url}/rejections",
        entries_url=f"{url}/entries",
    )


def source_format_of(content_type: str | None) -> service.SourceFormat:
    media_type, _, parameters = (content_type or "").partition(";")
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters.split(";"))
            if name.strip().lower() == "charset"
        ),
        None,
    )
    if charset is not None and charset not in {"utf-8", "utf8"}:
        raise ListUnreadable(
            f"The body declares the encoding {charset}; only UTF-8 is taken. Save the list as "
            "UTF-8 and send it again."
        )
    match media_type.strip().lower():
        case "text/csv":
            return "csv"
        case "application/json":
            return "json"
        case _:
            raise UnsupportedListType(
                "Send the list as text/csv or application/json "
                f"(this body is labelled '{content_type or 'nothing'}')."
            )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchRead,
    openapi_extra=REQUEST_BODY,
    responses={
        200: {"model": BatchRead, "description": "The batch key was used before: its result"},
        **responses_for(
            Unauthenticated,
            Forbidden,
            InvalidInput,
            ListUnreadable,
            ListTooLong,
            PayloadTooLarge,
            UnsupportedListType,
            TooManyRequests,
        ),
    },
)
async def post_violator_list(
    request: Request,
    client: ListWriter,
    session: DbSession,
    settings: Settings,
    correlation_id: CorrelationIdHeader,
    response: Response,
    batch_key: Annotated[
        str | None, Query(description="The batch key of a CSV list (JSON: in the body)")
    ] = None,
) -> BatchRead:
    """Post a violator list for the credential's own institution, as JSON
    (`{"batch_key": ..., "rows": [...]}`) or as text/csv (batch key in `?batch_key=`).

    Each row is an allegation, not a verdict: an accepted row opens a case for confirmation in
    review. Rows are judged one by one; the answer (201) counts the accepted rows and lists the
    rejected ones with their 1-based row number and the fields at fault (the first
    100; all of them on `rejections_url`). A list that cannot be read at all (not UTF-8,
    header columns missing or unknown, more rows than allowed, not the type it is labelled) is
    refused whole and stores nothing. The same batch key again answers 200 with the first
    result and creates nothing.
    """
    batch, created = await service.receive_list(
        session,
        await request.body(),
        source_format=source_format_of(request.headers.get("content-type")),
        batch_key=batch_key,
        client=client,
        settings=settings,
        correlation_id=correlation_id,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{PATH}/{batch.id}"
    return batch_read(batch)


async def institution_batch(
    batch_id: uuid.UUID, client: StatusReader, session: DbSession
) -> ViolatorListBatch:
    return await service.get_institution_batch(
        session, batch_id=batch_id, institution=client.organisation_code
    )


OwnBatch = Annotated[ViolatorListBatch, Depends(institution_batch)]
READ_ERRORS = responses_for(Unauthenticated, Forbidden, BatchNotFound, TooManyRequests)


@router.get("/{batch_id}", response_model=BatchRead, responses=READ_ERRORS)
async def read_violator_list(batch: OwnBatch) -> BatchRead:
    """A list the caller's institution posted: its counts and first rejected rows."""
    return batch_read(batch)


@router.get("/{batch_id}/rejections", response_model=RejectionsPage, responses=READ_ERRORS)
async def read_rejections(
    batch: OwnBatch,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RejectionsPage:
    """Every rejected row of a list, in row order, a page at a time."""
    return RejectionsPage(
        items=[
            RejectedRow.model_validate(row)
            for row in service.rejections_page(batch, offset=offset, limit=limit)
        ],
        total=batch.rejected_rows,
        offset=offset,
        limit=limit,
    )


@router.get("/{batch_id}/entries", response_model=EntriesPage, responses=READ_ERRORS)
async def read_entries(
    batch: OwnBatch,
    session: DbSession,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntriesPage:
    """The accepted rows of a list, in row order, each with its confirmation's status."""
    entries, total = await service.batch_entries(
        session, batch_id=batch.id, offset=offset, limit=limit
    )
    return EntriesPage(
        items=[EntryRead.model_validate(entry) for entry in entries],
        total=total,
        offset=offset,
        limit=limit,
    )
