"""Recording sanction events against a current violation, and reading a violation's sanctions
back as the registry stood at any moment.

Each event is a ledger record (kind sanction_event) in the one hash chain, attributed to the
competent authority's credential. Every check runs under the ledger's append lock, so two
orders recorded at once cannot both pass it (the same order twice, two events on one state,
an event on a violation being corrected).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.catalogue.models import Penalty
from services.registry.catalogue.service import penalty_in_force
from services.registry.ledger.entries import SanctionEventEntry
from services.registry.ledger.errors import ViolationNotCurrent
from services.registry.ledger.models import SANCTION_EVENTS, LedgerRecord, SanctionEventName
from services.registry.ledger.service import append_record, get_violation, lock_ledger
from services.registry.readers.models import ReaderCredential
from services.registry.sanctions import lifecycle
from services.registry.sanctions.errors import (
    AppealWindowOpen,
    DuplicateOrderReference,
    PenaltyNotInCatalogue,
    UnknownSanction,
)
from services.registry.sanctions.schemas import SanctionEventCreate
from shared.db import utcnow
from shared.errors import FieldProblem, InvalidInput

logger = structlog.get_logger(__name__)

# Orders are dated where they are signed (Pakistan, UTC+5), a day ahead of UTC for part of
# each day; a date further ahead is a future order, which could dodge the appeal window.
ORDER_DATE_LEEWAY = timedelta(days=1)


@dataclass(frozen=True)
class SanctionHistory:
    sanction_id: uuid.UUID
    violation_id: uuid.UUID
    terms: lifecycle.SanctionTerms
    events: list[LedgerRecord]


def event_name(value: str | None) -> SanctionEventName:
    """The stored event's name, typed (the column's CHECK constraint allows only these)."""
    for name in SANCTION_EVENTS:
        if name == value:
            return name
    raise ValueError(f"not a sanction event: {value!r}")


def facts_of(record: LedgerRecord) -> lifecycle.EventFacts:
    return lifecycle.EventFacts(
        event=event_name(record.sanction_event),
        penalty_code=record.penalty_code,
        penalty_catalogue_version=record.penalty_catalogue_version,
        period_months=record.period_months,
        order_date=record.effective_on,
    )


def history_of(
    *, sanction_id: uuid.UUID, violation_id: uuid.UUID, events: list[LedgerRecord]
) -> SanctionHistory:
    return SanctionHistory(
        sanction_id=sanction_id,
        violation_id=violation_id,
        terms=lifecycle.fold((facts_of(event) for event in events), sanction_id=sanction_id),
        events=events,
    )


async def record_sanction_event(
    session: AsyncSession,
    *,
    violation_id: uuid.UUID,
    order: SanctionEventCreate,
    authority: ReaderCredential,
    appeal_window_days: int,
) -> SanctionHistory:
    """Append one sanction event against a current violation the authority may see.

    Refused: a violation not found or another department's (404); bad input (422: the
    event's shape, a penalty outside the catalogue, a period where none belongs or missing
    where one does, an unknown sanction, an order dated in the future or before what it
    follows); a superseded violation, an event that does not follow from the sanction's state,
    an order reference already used on the violation, an imposition within the appeal window
    (409).
    """
    await lock_ledger(session)
    # Judged on everything recorded so far, not against this process's clock: a correction
    # recorded by a replica whose clock runs ahead still makes the violation not current.
    version = await get_violation(
        session, record_id=violation_id, department_scope=authority.organisation_code
    )
    violation = version.record
    problems = lifecycle.shape_problems(
        event=order.event,
        sanction_id=order.sanction_id,
        penalty_code=order.penalty_code,
        period_months=order.period_months,
    )
    if problems:
        named = ", ".join(dict.fromkeys(problem.field for problem in problems))
        raise InvalidInput(f"Fields at fault for a {order.event} event: {named}", errors=problems)
    latest_allowed = utcnow().date() + ORDER_DATE_LEEWAY
    if order.order_date > latest_allowed:
        raise _order_date_problem(f"The order is dated {order.order_date}, in the future.")
    penalty = await _penalty_of(session, order=order)
    earlier = await _events_of(session, violation=violation, sanction_id=order.sanction_id)
    before = (
        history_of(sanction_id=order.sanction_id, violation_id=violation.id, events=earlier)
        if order.sanction_id
        else None
    )
    floor = before.terms.last_order_date if before else violation.effective_on
    if order.order_date < floor:
        raise _order_date_problem(
            f"The order is dated {order.order_date}, before {floor}, the date of "
            + ("the sanction's latest order." if before else "the violation it sanctions.")
        )
    if version.superseded_by is not None:
        raise ViolationNotCurrent(
            f"Violation {violation.id} was superseded by record {version.superseded_by}; "
            "record the sanction against the current version."
        )
    lifecycle.next_state(
        before.terms.state if before else None, order.event, sanction_id=order.sanction_id
    )
    await _refuse_duplicate_order(session, violation=violation, order=order)
    if order.event == "imposed":
        _refuse_within_appeal_window(
            violation=violation, order=order, appeal_window_days=appeal_window_days
        )
    record = await append_record(
        session,
        entry=SanctionEventEntry(
            violation_id=violation.id,
            case_id=violation.case_id,
            submission_id=violation.submission_id,
            department=violation.department,
            sanction_event=order.event,
            sanction_id=order.sanction_id,
            penalty_code=penalty.code if penalty else None,
            penalty_catalogue_version=penalty.catalogue_version if penalty else None,
            period_months=order.period_months,
            order_reference=order.order_reference,
            order_date=order.order_date,
            reasons=order.reasons,
            recorded_by_id=authority.id,
            recorded_by_label=authority.label,
        ),
    )
    logger.info(
        "sanction event recorded",
        record_id=str(record.id),
        violation_id=str(violation.id),
        sanction_event=order.event,
        reader_key_id=authority.key_id,
    )
    assert record.sanction_id is not None
    return history_of(
        sanction_id=record.sanction_id, violation_id=violation.id, events=[*earlier, record]
    )


async def list_sanctions(
    session: AsyncSession,
    *,
    violation_id: uuid.UUID,
    department_scope: str | None,
    as_of: datetime,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[SanctionHistory], int | None]:
    """One page of a violation's sanctions as of a moment, in the order they were imposed,
    each with its events and state as of then; and the next page's cursor (the sequence of
    the last imposition on the page). 404 if the violation was not visible then."""
    violation = (
        await get_violation(
            session, record_id=violation_id, department_scope=department_scope, as_of=as_of
        )
    ).record
    query = select(LedgerRecord.sequence, LedgerRecord.id).where(
        LedgerRecord.violation_id == violation.id,
        LedgerRecord.sanction_event == "imposed",
        LedgerRecord.recorded_at <= as_of,
    )
    if after is not None:
        query = query.where(LedgerRecord.sequence > after)
    impositions = (
        await session.execute(query.order_by(LedgerRecord.sequence).limit(limit + 1))
    ).all()
    page = impositions[:limit]
    events = (
        await session.scalars(
            select(LedgerRecord)
            .where(
                LedgerRecord.sanction_id.in_([row.id for row in page]),
                LedgerRecord.recorded_at <= as_of,
            )
            .order_by(LedgerRecord.sequence)
        )
    ).all()
    by_sanction: defaultdict[uuid.UUID, list[LedgerRecord]] = defaultdict(list)
    for event in events:
        assert event.sanction_id is not None
        by_sanction[event.sanction_id].append(event)
    histories = [
        history_of(sanction_id=row.id, violation_id=violation.id, events=by_sanction[row.id])
        for row in page
    ]
    next_cursor = page[-1].sequence if len(impositions) > limit else None
    return histories, next_cursor


def _order_date_problem(detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[FieldProblem(field="order_date", message=detail)])


async def _penalty_of(session: AsyncSession, *, order: SanctionEventCreate) -> Penalty | None:
    """The catalogue's penalty an imposition or variation names, its period checked."""
    if order.penalty_code is None:
        return None
    penalty = await penalty_in_force(session, code=order.penalty_code)
    if penalty is None:
        detail = f"{order.penalty_code} is not a penalty of the current catalogue."
        raise PenaltyNotInCatalogue(
            detail, errors=[FieldProblem(field="penalty_code", message=detail)]
        )
    problems = lifecycle.period_problems(
        penalty_code=penalty.code, time_bound=penalty.time_bound, period_months=order.period_months
    )
    if problems:
        raise InvalidInput(problems[0].message, errors=problems)
    return penalty


async def _events_of(
    session: AsyncSession, *, violation: LedgerRecord, sanction_id: uuid.UUID | None
) -> list[LedgerRecord]:
    """The sanction's events so far, in ledger order; 422 if the violation has no such one."""
    if sanction_id is None:
        return []
    events = list(
        (
            await session.scalars(
                select(LedgerRecord)
                .where(
                    LedgerRecord.sanction_id == sanction_id,
                    LedgerRecord.violation_id == violation.id,
                )
                .order_by(LedgerRecord.sequence)
            )
        ).all()
    )
    if not events:
        detail = f"Violation {violation.id} has no sanction {sanction_id}."
        raise UnknownSanction(detail, errors=[FieldProblem(field="sanction_id", message=detail)])
    return events


async def _refuse_duplicate_order(
    session: AsyncSession, *, violation: LedgerRecord, order: SanctionEventCreate
) -> None:
    existing = await session.scalar(
        select(LedgerRecord.id).where(
            LedgerRecord.violation_id == violation.id,
            func.lower(LedgerRecord.order_reference) == func.lower(order.order_reference),
        )
    )
    if existing is not None:
        raise DuplicateOrderReference(
            f"Order {order.order_reference!r} is already recorded for violation "
            f"{violation.id} (record {existing})."
        )


def _refuse_within_appeal_window(
    *, violation: LedgerRecord, order: SanctionEventCreate, appeal_window_days: int
) -> None:
    last_day = lifecycle.appeal_window_last_day(
        violation.effective_on, appeal_window_days=appeal_window_days
    )
    if last_day is not None and order.order_date <= last_day:
        raise AppealWindowOpen(
            f"Violation {violation.id} took effect on {violation.effective_on}; its appeal "
            f"window of {appeal_window_days} days runs until {last_day}, and an order dated "
            f"{order.order_date} falls within it, while an appeal may still be filed. Orders "
            f"dated from {last_day + timedelta(days=1)} are accepted."
        )
