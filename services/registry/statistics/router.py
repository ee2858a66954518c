"""Statistics endpoints: grouped counts and turnaround for dashboards, auditors and competent
authorities, with small cells suppressed; the same counts as a streamed CSV; and, naming
violations, the sanctions inconsistent with a rule's practice (no dashboards)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator

from services.registry.ledger.schemas import AsOf, not_a_number
from services.registry.readers.auth import CurrentReader, RecordReader
from services.registry.readers.errors import OutsideOrganisation, RoleNotAllowed
from services.registry.retention.settings import RetentionSettings, current_retention_settings
from services.registry.statistics import service, suppression
from services.registry.statistics.schemas import (
    GroupCount,
    InconsistentSanctionList,
    InconsistentSanctionRead,
    StatisticsRead,
    TurnaroundRead,
)
from services.registry.statistics.settings import (
    StatisticsSettings,
    current_statistics_settings,
)
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput, Unauthenticated, responses_for
from shared.http import DbSession, Resources

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])
Settings = Annotated[StatisticsSettings, Depends(current_statistics_settings)]

By = Annotated[
    service.Grouping,
    Query(
        description="Group current violations by month (of effective_on), department, rule "
        "(a violation citing two rules counts under each) or platform; or imposed sanctions by "
        "penalty"
    ),
]
Department = Annotated[str | None, Query(max_length=64)]
From = Annotated[
    date | None,
    BeforeValidator(not_a_number),
    Query(alias="from", description="Violations effective on or after this date"),
]
To = Annotated[
    date | None,
    BeforeValidator(not_a_number),
    Query(alias="to", description="Violations effective on or before this date"),
]


async def statistics_filter(
    reader: CurrentReader,
    retention: Annotated[RetentionSettings, Depends(current_retention_settings)],
    department: Department = None,
    effective_from: From = None,
    effective_to: To = None,
    as_of: AsOf = None,
) -> service.StatisticsFilter:
    """The filter every statistics query takes, checked: a department-bound credential counts
    only its own department, and the date range must not be reversed."""
    if (
        department is not None
        and reader.organisation_code is not None
        and department != reader.organisation_code
    ):
        raise OutsideOrganisation(f"This credential reads only {reader.organisation_code}.")
    if effective_from is not None and effective_to is not None and effective_from > effective_to:
        detail = f"from ({effective_from}) is after to ({effective_to})."
        raise InvalidInput(detail, errors=[FieldProblem(field="from", message=detail)])
    return service.StatisticsFilter(
        as_of=as_of or utcnow(),
        department_scope=reader.organisation_code,
        department=department,
        effective_from=effective_from,
        effective_to=effective_to,
        spent_leave=retention.spent_leave,
    )


Filter = Annotated[service.StatisticsFilter, Depends(statistics_filter)]
READ_ERRORS = responses_for(Unauthenticated, RoleNotAllowed, OutsideOrganisation, InvalidInput)


@router.get("", response_model=StatisticsRead, responses=READ_ERRORS)
async def read_statistics(
    scope: Filter, session: DbSession, settings: Settings, by: By = "month"
) -> StatisticsRead:
    """Counts of current violations (as the registry stood at `as_of`, default now) grouped by
    `by`, their total, the whole days from report to record (median and 90th percentile), and
    the appeals decided by outcome. A date range of whole months (or none) is answered from the
    statistics tally in milliseconds; any other range is counted from the ledger.

    Every count below `min_cell` (REGISTRY_STATISTICS_MIN_CELL, default 5) reads as the string
    "<5", never as a number; the total is withheld (null) when any group is suppressed, and
    reads "<5" when itself below the threshold; the days are given over at least `min_cell`
    records only. No personal data: any credential may read this, dashboards included."""
    min_cell = settings.min_cell
    numbers = await service.statistics(session, by=by, scope=scope)
    counts, total, days, appeals = (
        numbers.counts,
        numbers.total,
        numbers.turnaround,
        numbers.appeals,
    )
    enough = days.records >= min_cell
    marker = suppression.suppressed_marker(min_cell)
    return StatisticsRead(
        by=by,
        as_of=scope.as_of,
        department=scope.department,
        effective_from=scope.effective_from,
        effective_to=scope.effective_to,
        min_cell=min_cell,
        groups=[
            GroupCount(key=key, count=suppression.cell(count, min_cell=min_cell))
            for key, count in counts
        ],
        total=suppression.total(total, cells=[count for _, count in counts], min_cell=min_cell),
        report_to_record=TurnaroundRead(
            records=suppression.cell(days.records, min_cell=min_cell),
            median_days=days.median if enough else marker,
            p90_days=days.p90 if enough else marker,
        ),
        appeal_outcomes=[
            GroupCount(key=outcome, count=suppression.cell(count, min_cell=min_cell))
            for outcome, count in appeals
        ],
    )


def _csv_line(*values: object) -> str:
    """One CSV line; a text cell that a spreadsheet would run as a formula is quoted inert."""
    cells = [
        f"'{value}" if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"} else value
        for value in values
    ]
    line = io.StringIO()
    csv.writer(line, lineterminator="\r\n").writerow(cells)
    return line.getvalue()


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={**READ_ERRORS, 200: {"content": {"text/csv": {}}, "description": "CSV"}},
)
async def export_statistics(
    scope: Filter,
    resources: Resources,
    settings: Settings,
    by: By = "month",
) -> StreamingResponse:
    """The counts of GET /v1/statistics as CSV (`<by>,count`), with the same "<5" cells,
    streamed: rows leave as they are read from a server-side cursor, never all in memory."""
    min_cell = settings.min_cell

    async def rows() -> AsyncIterator[str]:
        yield _csv_line(by, "count")
        # Its own session: the request's closes when this handler returns, before the body
        # is sent. Read-only, so nothing to commit.
        async with resources.sessionmaker() as session:
            async for key, count in service.stream_grouped_counts(
                session, by=by, scope=scope, batch_size=settings.export_batch_size
            ):
                yield _csv_line(key, suppression.cell(count, min_cell=min_cell))

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="statistics-{by}.csv"'},
    )


@router.get(
    "/inconsistent-sanctions",
    response_model=InconsistentSanctionList,
    responses=READ_ERRORS,
)
async def list_inconsistent_sanctions(
    reader: RecordReader, scope: Filter, session: DbSession
) -> InconsistentSanctionList:
    """Imposed sanctions whose penalty class (minor or major, from the penalties catalogue)
    differs from the class most often imposed for a rule the violation cites, as the registry
    stood at `as_of`. A rule tied between minor and major flags nothing. Names violations, so
    auditors and competent authorities only (department-bound ones: their department)."""
    flagged = await service.inconsistent_sanctions(session, scope=scope)
    return InconsistentSanctionList(
        as_of=scope.as_of,
        items=[
            InconsistentSanctionRead.model_validate(item, from_attributes=True) for item in flagged
        ],
    )
