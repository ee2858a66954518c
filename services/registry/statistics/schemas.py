"""What statistics readers see: grouped counts and turnaround with small cells suppressed, and
(for auditors and competent authorities) the sanctions inconsistent with a rule's practice. No
schema here has a field for personal data."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from services.registry.statistics.service import Grouping

Count = int | str


class GroupCount(BaseModel):
    key: str = Field(description="The group: YYYY-MM, a department, rule, platform or penalty")
    count: Count = Field(description='The count, or "<5" (the threshold) when below it')


class TurnaroundRead(BaseModel):
    records: Count = Field(description="Violations measured")
    median_days: float | str | None = Field(
        description="Median of the whole days from report to record (each violation's days "
        'rounded down); "<5" over too few records'
    )
    p90_days: float | str | None = Field(description="90th percentile of the same")


class StatisticsRead(BaseModel):
    by: Grouping
    as_of: datetime
    department: str | None
    effective_from: date | None = Field(serialization_alias="from")
    effective_to: date | None = Field(serialization_alias="to")
    min_cell: int = Field(description='Counts below this read as the string "<min_cell>"')
    groups: list[GroupCount]
    total: Count | None = Field(
        description="Current violations counted (impositions for `penalty`); null when a "
        "group is suppressed, since the total would give it back"
    )
    report_to_record: TurnaroundRead
    appeal_outcomes: list[GroupCount] = Field(
        description="Appeals decided by as_of, by outcome (upheld, modified, set_aside)"
    )


class InconsistentSanctionRead(BaseModel):
    rule: str
    usual_class: str = Field(description="The penalty class most often imposed for the rule")
    rule_sanctions: int = Field(description="Sanctions imposed for the rule, by as_of")
    sanction_id: uuid.UUID
    violation_id: uuid.UUID
    department: str
    penalty_code: str
    penalty_class: str
    order_date: date


class InconsistentSanctionList(BaseModel):
    as_of: datetime
    items: list[InconsistentSanctionRead]
