"""Reading a violator list's body (CSV or JSON) into numbered rows, and judging each row on its
own. Pure functions: no database, no clock (today is passed in), so they are tested directly.

A row's number is its 1-based position: in `rows` for JSON, among the records after the header
for CSV (row 1 is the file's second line unless a quoted cell spans lines).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from services.intake.violator_lists.errors import ListTooLong, ListUnreadable, UnsupportedListType
from services.intake.violator_lists.schemas import RejectedRow, ViolatorListRow
from shared.errors import FieldProblem, field_name

REQUIRED_COLUMNS = (
    "employee_ref",
    "name",
    "designation",
    "rule",
    "finding",
    "found_on",
    "institution_finding_ref",
)
OPTIONAL_COLUMNS = ("office", "platform", "notice_and_reply_on_record")
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)

# Formats people attach by mistake, by their first bytes.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"PK\x03\x04", "a zip archive (or an .xlsx/.docx workbook)"),
    (b"%PDF-", "a PDF document"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls/.doc)"),
    (b"\x1f\x8b", "a gzip archive"),
)


ROWS = TypeAdapter(list[ViolatorListRow])


@dataclass
class ReadRows:
    """Rows as sent, before judgement, kept as columns (one object per row would cost more
    than the reading): the readable rows' numbers and values, and the rows that reading
    already found wrong, by number."""

    numbers: list[int] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[int, list[FieldProblem]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.problems)

    def chunks(self, size: int) -> list[ReadRows]:
        """The readable rows in slices of `size`, in order; the rows reading already refused
        go with the first slice."""
        parts = [
            ReadRows(self.numbers[start : start + size], self.values[start : start + size])
            for start in range(0, len(self.numbers), size)
        ] or [ReadRows()]
        parts[0].problems = dict(self.problems)
        return parts


@dataclass(frozen=True)
class RowVerdicts:
    accepted: list[tuple[int, ViolatorListRow]]
    rejected: list[RejectedRow]


def refuse_mislabelled(body: bytes, *, labelled: str) -> None:
    """A body whose bytes show another format than its label is refused before parsing."""
    head = body[:16]
    for signature, described in BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedListType(
                f"The body is labelled {labelled} but its content is {described}."
            )
    if b"\x00" in body[:65536]:
        raise UnsupportedListType(
            f"The body is labelled {labelled} but holds NUL bytes: it is a binary file, not text."
        )


def decode_utf8(body: bytes, *, what: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ListUnreadable(
            f"The {what} is not UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start} is "
            "not valid UTF-8 (perhaps Windows-1252 or Latin-1). Save it as UTF-8 and send it "
            "again.",
            errors=[FieldProblem(field="body", message="must be encoded as UTF-8")],
        ) from exc


def refuse_too_many(count: int, *, max_rows: int) -> None:
    if count > max_rows:
        raise ListTooLong(
            f"The list has {count} rows; at most {max_rows} are taken in one list. Split it.",
            errors=[FieldProblem(field="rows", message=f"at most {max_rows} rows")],
        )


def read_csv(body: bytes, *, max_rows: int) -> ReadRows:
    """The records of a CSV with a header row naming the columns (any order).

    Missing required columns, unknown columns, and a list longer than `max_rows` refuse the
    whole list; a record with the wrong number of cells is a rejected row. Empty cells count as
    absent, so an optional column may be left blank.
    """
    refuse_mislabelled(body, labelled="text/csv")
    text = decode_utf8(body, what="CSV")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ListUnreadable(f"The CSV cannot be parsed: {exc}.") from exc
    if not records or not any(cell.strip() for cell in records[0]):
        raise ListUnreadable(
            "The CSV has no header row. Its first line must name the columns: "
            + ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS),
            errors=[FieldProblem(field="header", message="missing")],
        )
    header = [cell.strip() for cell in records[0]]
    check_header(header)
    data = records[1:]
    refuse_too_many(len(data), max_rows=max_rows)
    width = len(header)
    rows = ReadRows()
    for number, cells in enumerate(data, start=1):
        if len(cells) == width:
            rows.numbers.append(number)
            # Most rows have no blank cell: dict(zip()) is three times the speed of a filter.
            rows.values.append(
                {name: cell for name, cell in zip(header, cells, strict=True) if cell != ""}
                if "" in cells
                else dict(zip(header, cells, strict=True))
            )
        elif cells and (len(cells) > 1 or cells[0].strip()):  # else a blank line
            rows.problems[number] = [
                FieldProblem(
                    field="row", message=f"has {len(cells)} cells; the header names {width} columns"
                )
            ]
    return rows


def check_header(header: Sequence[str]) -> None:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(FieldProblem(field=name, message="column named twice"))
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    unknown = [name for name in header if name not in KNOWN_COLUMNS]
    problems += [FieldProblem(field=name, message="required column missing") for name in missing]
    problems += [FieldProblem(field=name, message="unknown column") for name in unknown]
    if problems:
        parts = []
        if missing:
            parts.append("missing required columns: " + ", ".join(missing))
        if unknown:
            parts.append("unknown columns: " + ", ".join(unknown))
        if not parts:
            parts.append("a column is named twice")
        raise ListUnreadable(
            "The CSV header is not valid: " + "; ".join(parts) + ".", errors=problems
        )


def read_json(body: bytes, *, max_rows: int) -> tuple[str, ReadRows]:
    """The batch key and rows of `{"batch_key": ..., "rows": [...]}`; other keys refuse it."""
    refuse_mislabelled(body, labelled="application/json")
    text = decode_utf8(body, what="JSON body")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListUnreadable(
            f"The body is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    if not isinstance(document, dict):
        raise ListUnreadable(
            'The body must be a JSON object {"batch_key": ..., "rows": [...]}.',
            errors=[FieldProblem(field="body", message="must be an object")],
        )
    problems = [
        FieldProblem(field=key, message="Extra inputs are not permitted")
        for key in document
        if key not in {"batch_key", "rows"}
    ]
    batch_key, rows = document.get("batch_key"), document.get("rows")
    if not isinstance(batch_key, str):
        problems.append(FieldProblem(field="batch_key", message="a string is required"))
    if not isinstance(rows, list):
        problems.append(FieldProblem(field="rows", message="a list of row objects is required"))
    if problems or not isinstance(batch_key, str) or not isinstance(rows, list):
        raise ListUnreadable(
            "Fields at fault: " + ", ".join(sorted({p.field for p in problems})), errors=problems
        )
    refuse_too_many(len(rows), max_rows=max_rows)
    read = ReadRows()
    for number, row in enumerate(rows, start=1):
        if isinstance(row, dict):
            read.numbers.append(number)
            read.values.append(row)
        else:
            read.problems[number] = [FieldProblem(field="row", message="must be an object")]
    return batch_key, read


def rules_named(rows: ReadRows) -> set[str]:
    """Every rule code the rows name, to look up in the catalogue in one query."""
    return {rule.strip() for values in rows.values if isinstance(rule := values.get("rule"), str)}


def judge_rows(rows: ReadRows, *, known_rules: set[str], today: date) -> RowVerdicts:
    """Each row on its own: its fields, its rule against the catalogue, its date against today.

    The rows are validated as one list (pydantic's loop, not ours: a 100,000-row list is
    judged in a fraction of the time), then the rows that failed are told apart by index.
    """
    problems = {number: list(faults) for number, faults in rows.problems.items()}
    numbers = rows.numbers
    try:
        models = ROWS.validate_python(rows.values)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_context=False):
            index, *location = error["loc"]
            problems.setdefault(numbers[int(index)], []).append(
                FieldProblem(field=field_name(location or ["row"]), message=error["msg"])
            )
        keep = [index for index, number in enumerate(numbers) if number not in problems]
        numbers = [numbers[index] for index in keep]
        models = ROWS.validate_python([rows.values[index] for index in keep])
    accepted: list[tuple[int, ViolatorListRow]] = []
    for number, row in zip(numbers, models, strict=True):
        if row["rule"] in known_rules and row["found_on"] <= today:
            row.setdefault("office", None)
            row.setdefault("platform", "other")
            row.setdefault("notice_and_reply_on_record", False)
            accepted.append((number, row))
            continue
        faults = problems[number] = []
        if row["rule"] not in known_rules:
            faults.append(
                FieldProblem(field="rule", message=f"'{row['rule']}' is not in the rules catalogue")
            )
        if row["found_on"] > today:
            faults.append(
                FieldProblem(field="found_on", message=f"is after today ({today.isoformat()})")
            )
    return RowVerdicts(
        accepted=accepted,
        rejected=[
            RejectedRow(row=number, errors=faults) for number, faults in sorted(problems.items())
        ],
    )
