"""Importing a roster, and reading chains of command from it.

An import replaces the organisation's rows it names (an upsert per employee); rows of
employees it does not name stay. Chains are read with one recursive query, bounded in depth so
a cycle in the data cannot loop.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.roster.models import RosterEntry
from shared.db import utcnow

ROSTER_COLUMNS = ("employee_ref", "name", "designation", "office", "reports_to")
REQUIRED_COLUMNS = ROSTER_COLUMNS[:4]
MAX_CHAIN_DEPTH = 50


@dataclass(frozen=True)
class RosterRow:
    employee_ref: str
    name: str
    designation: str
    office: str
    reports_to: str | None


class RosterFileError(ValueError):
    """A roster file that cannot be read as a whole (encoding, header)."""


@dataclass(frozen=True)
class RejectedRow:
    row: int
    reason: str


def read_roster_csv(content: bytes) -> tuple[list[RosterRow], list[RejectedRow]]:
    """The rows of a UTF-8 roster CSV with a header; rows missing a required cell, or naming an
    employee twice, are rejected by number (1 = the first row after the header)."""
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterFileError(f"not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(decoded))
    header = set(reader.fieldnames or ())
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RosterFileError(f"missing columns: {', '.join(missing)}")
    rows: list[RosterRow] = []
    rejected: list[RejectedRow] = []
    seen: set[str] = set()
    for number, record in enumerate(reader, start=1):
        cells = {column: (record.get(column) or "").strip() for column in ROSTER_COLUMNS}
        empty = [column for column in REQUIRED_COLUMNS if not cells[column]]
        if empty:
            rejected.append(RejectedRow(row=number, reason=f"empty {', '.join(empty)}"))
            continue
        too_long = [
            column
            for column in ROSTER_COLUMNS
            if len(cells[column]) > (64 if column in ("employee_ref", "reports_to") else 200)
        ]
        if too_long:
            rejected.append(RejectedRow(row=number, reason=f"too long: {', '.join(too_long)}"))
            continue
        if cells["employee_ref"] in seen:
            rejected.append(RejectedRow(row=number, reason="employee named twice"))
            continue
        seen.add(cells["employee_ref"])
        rows.append(
            RosterRow(
                employee_ref=cells["employee_ref"],
                name=cells["name"],
                designation=cells["designation"],
                office=cells["office"],
                reports_to=cells["reports_to"] or None,
            )
        )
    return rows, rejected


def batches(rows: list[RosterRow], size: int) -> Iterator[list[RosterRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def import_roster_rows(
    session: AsyncSession, *, organisation_code: str, rows: Iterable[RosterRow]
) -> int:
    """Upsert these rows of the organisation's roster; returns how many."""
    values = [
        {
            "organisation_code": organisation_code,
            "employee_ref": row.employee_ref,
            "name": row.name,
            "designation": row.designation,
            "office": row.office,
            "reports_to": row.reports_to,
            "imported_at": utcnow(),
        }
        for row in rows
    ]
    if not values:
        return 0
    statement = insert(RosterEntry).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[RosterEntry.organisation_code, RosterEntry.employee_ref],
            set_={
                "name": statement.excluded.name,
                "designation": statement.excluded.designation,
                "office": statement.excluded.office,
                "reports_to": statement.excluded.reports_to,
                "imported_at": statement.excluded.imported_at,
            },
        )
    )
    return len(values)


SUPERVISORS = text(
    f"""
    WITH RECURSIVE chain (employee_ref, reports_to, depth) AS (
        SELECT employee_ref, reports_to, 0 FROM review.roster_entry
        WHERE organisation_code = :organisation AND employee_ref = ANY(:employees)
        UNION ALL
        SELECT r.employee_ref, r.reports_to, chain.depth + 1
        FROM review.roster_entry AS r JOIN chain ON r.employee_ref = chain.reports_to
        WHERE r.organisation_code = :organisation AND chain.depth < {MAX_CHAIN_DEPTH}
    )
    SELECT employee_ref, reports_to FROM chain
    """
)


async def supervisors_of(
    session: AsyncSession, *, organisation_code: str, employee_refs: Iterable[str]
) -> dict[str, frozenset[str]]:
    """For each employee, everyone above them in the organisation's roster (empty when the
    roster does not know them)."""
    wanted = sorted(set(employee_refs))
    rows = (
        await session.execute(SUPERVISORS, {"organisation": organisation_code, "employees": wanted})
    ).all()
    reports_to = {row.employee_ref: row.reports_to for row in rows}
    chains: dict[str, frozenset[str]] = {}
    for employee in wanted:
        above: list[str] = []
        current = reports_to.get(employee)
        while current is not None and current not in above and len(above) < MAX_CHAIN_DEPTH:
            above.append(current)
            current = reports_to.get(current)
        chains[employee] = frozenset(above)
    return chains
