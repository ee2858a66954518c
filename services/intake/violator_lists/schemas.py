"""What institutions send and read about violator lists."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, NotRequired, cast, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    with_config,
)
from typing_extensions import TypedDict, get_type_hints

from services.intake.reports.schemas import (
    Platform,
    Reference,
    RuleCode,
    ShortText,
)
from shared.errors import FieldProblem
from shared.input import StrictInput

BatchKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[ -~]+$")
]
Finding = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@with_config(ConfigDict(extra="forbid"))
class ViolatorListRow(TypedDict):
    """One row of a list: who, under which rule, what the institution found and when.

    Judged on its own, so one bad row never refuses its neighbours; the rule's presence in the
    catalogue and `found_on` not being in the future are checked beside it (parsing.judge_rows).
    A TypedDict rather than a model: pydantic checks 100,000 of them in well under half the
    time. An accepted row has every key (parsing fills in the defaults: office None,
    platform "other", notice_and_reply_on_record false).
    """

    employee_ref: Annotated[
        Reference, Field(description="Employee reference in the institution's records")
    ]
    name: ShortText
    designation: ShortText
    office: NotRequired[ShortText | None]
    rule: Annotated[RuleCode, Field(description="A rule code from the rules catalogue")]
    platform: NotRequired[Annotated[Platform, Field(description='Default "other"')]]
    finding: Annotated[Finding, Field(description="What the institution found")]
    found_on: Annotated[date, Field(description="When it was found (ISO date), not in the future")]
    institution_finding_ref: Annotated[
        Reference, Field(description="The institution's own reference for its finding")
    ]
    notice_and_reply_on_record: NotRequired[
        Annotated[
            bool,
            Field(
                description=(
                    "Default false. True when the institution's record shows the employee was "
                    "given notice and replied; review then need not serve a second notice"
                )
            ),
        ]
    ]


# The one definition of a list's columns, for the CSV header, the parser, the stored entry and
# the test builders: the row's keys in their order, and those a row may leave out.
LIST_COLUMNS: tuple[str, ...] = tuple(ViolatorListRow.__annotations__)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(
    name
    for name, hint in get_type_hints(ViolatorListRow, include_extras=True).items()
    if cast(object, get_origin(hint)) is NotRequired
)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    name for name in LIST_COLUMNS if name not in OPTIONAL_COLUMNS
)


class ViolatorListPost(StrictInput):
    """The JSON form of a list (the CSV form carries the same columns, one row a line)."""

    batch_key: BatchKey = Field(
        description="The institution's own key for this list; posting it again returns the "
        "first result and creates nothing"
    )
    rows: list[ViolatorListRow] = Field(description="At most 100,000 rows")


class RejectedRow(BaseModel):
    row: int = Field(
        description="1-based: the position in `rows`, or the CSV line after the header"
    )
    errors: list[FieldProblem]


BatchStatus = Literal["processed"]


class BatchRead(BaseModel):
    """A list's result: how many rows were accepted, and each rejected row with its faults."""

    id: uuid.UUID
    batch_key: str
    institution: str
    status: BatchStatus
    source_format: str
    received_at: datetime
    total_rows: int
    accepted: int
    rejected: int
    rejected_rows: list[RejectedRow] = Field(
        description="The first rejected rows; all of them are on `rejections_url`"
    )
    rejected_rows_complete: bool = Field(
        description="False when more rows were rejected than `rejected_rows` shows"
    )
    status_url: str
    rejections_url: str
    entries_url: str


class RejectionsPage(BaseModel):
    items: list[RejectedRow]
    total: int
    offset: int
    limit: int


class EntryRead(BaseModel):
    """An accepted row and where its confirmation has got to."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    row_number: int
    employee_ref: str
    name: str
    designation: str
    office: str | None
    rule: str
    platform: str
    finding: str
    found_on: date
    institution_finding_ref: str
    notice_and_reply_on_record: bool
    status: str
    status_changed_at: datetime


class EntriesPage(BaseModel):
    items: list[EntryRead]
    total: int
    offset: int
    limit: int
