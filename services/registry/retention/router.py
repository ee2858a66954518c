"""Retention endpoints for auditors: a dry-run preview of what the retention policy would
purge, and a run that applies exactly a preview. A department-bound auditor previews and
purges its own department's cases only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.registry.readers.auth import Auditor
from services.registry.readers.errors import RoleNotAllowed
from services.registry.retention import service
from services.registry.retention.errors import PreviewOutdated
from services.registry.retention.schemas import (
    RetentionPolicyBody,
    RetentionPreviewBody,
    RetentionPreviewRead,
    RetentionRunBody,
    RetentionRunRead,
)
from services.registry.retention.settings import RetentionSettings, current_retention_settings
from shared.db import utcnow
from shared.errors import InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession

router = APIRouter(prefix="/v1/retention", tags=["retention"])
Settings = Annotated[RetentionSettings, Depends(current_retention_settings)]


def policy_of(body: RetentionPolicyBody, settings: RetentionSettings) -> service.RetentionPolicy:
    days = settings.cleared_days if body.cleared_days is None else body.cleared_days
    return service.RetentionPolicy(cleared_days=days)


@router.post(
    "/preview",
    response_model=RetentionPreviewRead,
    responses=responses_for(Unauthenticated, RoleNotAllowed, InvalidInput),
)
async def preview_retention(
    body: RetentionPreviewBody, auditor: Auditor, session: DbSession, settings: Settings
) -> RetentionPreviewRead:
    """Dry run: what the retention policy (the configured one, or `cleared_days` to try a
    change) would purge today. Counts, case and record ids only, no personal data; nothing is
    changed. Pass the answer's `digest` to `POST /v1/retention/runs` to apply it."""
    preview = await service.preview_retention(
        session,
        policy=policy_of(body, settings),
        today=utcnow().date(),
        department_scope=auditor.organisation_code,
    )
    return RetentionPreviewRead.of(preview, limit=body.limit)


@router.post(
    "/runs",
    response_model=RetentionRunRead,
    status_code=201,
    responses=responses_for(Unauthenticated, RoleNotAllowed, InvalidInput, PreviewOutdated),
)
async def run_retention(
    body: RetentionRunBody, auditor: Auditor, session: DbSession, settings: Settings
) -> RetentionRunRead:
    """Apply a preview: remove the personal data of every record it listed and append one
    `retention_purge` record per case to the ledger (naming the records and the policy). The
    chain still verifies afterwards. 409 `retention-preview-outdated` when what is due is no
    longer exactly what the preview (`preview_digest`) listed: preview again. Applying the
    same preview twice purges nothing the second time (409: nothing it listed is left)."""
    run = await service.apply_retention(
        session,
        policy=policy_of(body, settings),
        today=utcnow().date(),
        department_scope=auditor.organisation_code,
        expected_digest=body.preview_digest,
        recorded_by_id=auditor.id,
        recorded_by_label=auditor.label,
    )
    return RetentionRunRead.of(run)
