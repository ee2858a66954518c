"""What the retention endpoints take and answer: the policy, the dry-run preview (counts and
record ids, never personal data), and a run's result."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.registry.retention.service import ClearedOutcome, RetentionPreview, RetentionRun


class RetentionPolicyBody(BaseModel):
    # Strict: `true` is not a number of days (lax mode would read it as 1).
    model_config = ConfigDict(extra="forbid", strict=True)

    cleared_days: int | None = Field(
        default=None,
        ge=0,
        le=36_500,
        description="Days after a cleared outcome before its case's records lose their "
        "personal data; default REGISTRY_RETENTION_CLEARED_DAYS",
    )


class RetentionPreviewBody(RetentionPolicyBody):
    limit: int = Field(default=200, ge=0, le=5000, description="Due cases listed at most")


class RetentionRunBody(RetentionPolicyBody):
    preview_digest: str = Field(
        min_length=64,
        max_length=64,
        pattern="^[0-9a-f]{64}$",
        description="The `digest` of the preview this run applies: the run purges exactly what "
        "that preview listed, or nothing (409 retention-preview-outdated)",
    )


class DueCaseRead(BaseModel):
    case_id: uuid.UUID
    department: str
    outcome: ClearedOutcome = Field(description="cleared_finding, or set_aside on appeal")
    outcome_on: date
    record_ids: list[uuid.UUID] = Field(description="The case's records that would be purged")


class RetentionPreviewRead(BaseModel):
    cleared_days: int
    today: date
    cutoff: date = Field(description="Cleared outcomes that took effect by this date are due")
    case_count: int
    record_count: int
    by_outcome: dict[str, int] = Field(description="Due cases by outcome")
    cases: list[DueCaseRead] = Field(description="The due cases, in ledger order, up to `limit`")
    truncated: bool = Field(description="True when more cases are due than listed")
    digest: str = Field(description="Pass as `preview_digest` to apply exactly this preview")

    @classmethod
    def of(cls, preview: RetentionPreview, *, limit: int) -> RetentionPreviewRead:
        by_outcome: dict[str, int] = {}
        for case in preview.cases:
            by_outcome[case.outcome] = by_outcome.get(case.outcome, 0) + 1
        return cls(
            cleared_days=preview.policy.cleared_days,
            today=preview.today,
            cutoff=preview.cutoff,
            case_count=len(preview.cases),
            record_count=preview.record_count,
            by_outcome=by_outcome,
            cases=[
                DueCaseRead(
                    case_id=case.case_id,
                    department=case.department,
                    outcome=case.outcome,
                    outcome_on=case.outcome_on,
                    record_ids=list(case.record_ids),
                )
                for case in preview.cases[:limit]
            ],
            truncated=len(preview.cases) > limit,
            digest=preview.digest,
        )


class RetentionRunRead(BaseModel):
    run_id: uuid.UUID
    cleared_days: int
    cutoff: date
    case_count: int
    record_count: int = Field(description="Records whose personal data was removed")
    purge_record_ids: list[uuid.UUID] = Field(
        description="The retention_purge records appended to the ledger, one per case"
    )

    @classmethod
    def of(cls, run: RetentionRun) -> RetentionRunRead:
        return cls(
            run_id=run.run_id,
            cleared_days=run.preview.policy.cleared_days,
            cutoff=run.preview.cutoff,
            case_count=len(run.preview.cases),
            record_count=run.preview.record_count,
            purge_record_ids=run.purge_record_ids,
        )
