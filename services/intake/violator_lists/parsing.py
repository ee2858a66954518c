"""Reading a violator list's body (CSV or JSON) into numbered rows, for judging.py to judge.
Pure functions: no database, so they are tested directly.

A row's number is its 1-based position: in `rows` for JSON, among the records after the header
for CSV (row 1 is the file's second line unless a quoted cell spans lines).
"""

from __future__ import annotations

import _csv
import codecs
import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from services.intake.violator_lists.errors import ListTooLong, ListUnreadable, UnsupportedListType
from services.intake.violator_lists.json_list import JsonRows, read_list_object
from services.intake.violator_lists.schemas import (
    LIST_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
)
from shared.errors import FieldProblem
from shared.storable_text import MESSAGE, shown, unstorable_fields

SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")

KNOWN_COLUMNS = frozenset(LIST_COLUMNS)

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


# A cell a row does not have: a blank CSV cell, or a key a JSON row leaves out.
ABSENT: Final[Any] = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


@dataclass
class ReadRows:
    """Rows as sent, before judgement: the readable rows' numbers and records, and the rows
    that reading already found wrong, by number. A CSV row's record is its list of cells in the
    header's order (`names`); a JSON row's is its object (`names` is None). No dict per CSV row:
    the judge reads a column at a time."""

    names: tuple[str, ...] | None = None
    numbers: list[int] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)
    problems: dict[int, list[FieldProblem]] = field(default_factory=dict)
    _columns: list[tuple[str, ...]] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.problems)

    def chunks(self, size: int) -> list[ReadRows]:
        """The readable rows in slices of `size`, in order; the rows reading already refused
        go with the first slice."""
        parts = [
            ReadRows(
                self.names,
                self.numbers[start : start + size],
                self.records[start : start + size],
            )
            for start in range(0, len(self.numbers), size)
        ] or [ReadRows(self.names)]
        parts[0].problems = dict(self.problems)
        return parts

    def column(self, name: str) -> list[Any]:
        """Every row's value of one column, in order, ABSENT where the row has none."""
        if self.names is None:
            return [record.get(name, ABSENT) for record in self.records]
        if name not in self.names:
            return [ABSENT] * len(self.records)
        if self._columns is None:
            # One C pass turns the records into columns (every record has the header's width).
            self._columns = list(zip(*self.records, strict=True)) or [()] * len(self.names)
        cells = list(self._columns[self.names.index(name)])
        return [ABSENT if cell == "" else cell for cell in cells] if "" in cells else cells

    def row(self, index: int) -> dict[str, Any]:
        """One row's values by column, as pydantic takes them (a blank CSV cell left out)."""
        record = self.records[index]
        if self.names is None:
            return cast(dict[str, Any], record)
        return {name: cell for name, cell in zip(self.names, record, strict=True) if cell != ""}

    @property
    def values(self) -> list[dict[str, Any]]:
        return [self.row(index) for index in range(len(self.records))]

    def unknown_keys(self) -> list[int]:
        """The indexes of the rows naming a column lists do not have (a CSV's header was
        checked whole)."""
        if self.names is not None:
            return []
        return [
            index for index, record in enumerate(self.records) if not record.keys() <= KNOWN_COLUMNS
        ]


def refuse_mislabelled(body: bytes, *, labelled: str) -> None:
    """A body whose bytes show another format than its label is refused before parsing."""
    head = body[:16]
    for signature, described in BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedListType(
                f"The body is labelled {labelled} but its content is {described}."
            )
    if b"\x00" in body:
        raise UnsupportedListType(
            f"The body is labelled {labelled} but holds NUL bytes: it is a binary file, not text."
        )


def not_utf8(what: str, *, byte: int, offset: int) -> ListUnreadable:
    return ListUnreadable(
        f"The {what} is not UTF-8: byte 0x{byte:02x} at offset {offset} is not valid UTF-8 "
        "(perhaps Windows-1252 or Latin-1). Save it as UTF-8 and send it again.",
        errors=[FieldProblem(field="body", message="must be encoded as UTF-8")],
    )


def decode_utf8(body: bytes, *, what: str, offset: int = 0) -> str:
    """`body` as text; `offset` is where it starts in the whole body, for the message."""
    try:
        return body.decode("utf-8-sig" if offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(what, byte=exc.object[exc.start], offset=offset + exc.start) from exc


def check_utf8(body: bytes, *, what: str) -> None:
    """Refuses a body that is not UTF-8, a slice at a time: never the whole body as text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    slice_bytes = 1 << 20
    for start in range(0, len(body), slice_bytes):
        chunk = body[start : start + slice_bytes]
        try:
            decoder.decode(chunk, final=start + slice_bytes >= len(body))
        except UnicodeDecodeError as exc:
            # exc.object is the bytes held over from the slice before, then this slice.
            offset = start - (len(exc.object) - len(chunk)) + exc.start
            raise not_utf8(what, byte=exc.object[exc.start], offset=offset) from exc


def refuse_too_many(count: int, *, max_rows: int) -> None:
    if count > max_rows:
        raise ListTooLong.at(count, max_rows=max_rows)


# The longest physical line a CSV list may have. A row's cells together are a few KB at most
# (the finding, the longest, is 2,000 characters); a longer line is a bomb, not a list.
MAX_LINE_BYTES = 65_536
LINE_END = re.compile(rb"\r\n|\r|\n")


# Lines are cut and decoded a block of about this many bytes at a time: one C call per block
# rather than a regex search, a slice and a decode per line.
LINES_BLOCK_BYTES = 1 << 20


class CsvLines:
    """The body's physical lines (ended by LF, CRLF or CR), decoded a block at a time as the
    CSV reader asks for them, so that neither the whole body as text nor more rows than
    allowed are ever held at once. `lines_from(n)` gives the lines from the n-th (0-based) to
    the end again, for the last record's check."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.start = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
        # Each block's first line's index and byte offset.
        self.blocks: list[tuple[int, int]] = []

    def __iter__(self) -> Iterator[str]:
        body, start, number = self.body, self.start, 0
        while start < len(body):
            stop = min(len(body), start + LINES_BLOCK_BYTES)
            if stop < len(body):
                # Cut after the block's last line end; never between a CR and its LF.
                cut = body.rfind(b"\n", start, stop)
                if cut < 0:
                    cut = body.rfind(b"\r", start, stop - 1)
                stop = stop if cut < 0 else cut + 1
            self.blocks.append((number, start))
            block = body[start:stop].splitlines(keepends=True)
            if max(map(len, block)) > MAX_LINE_BYTES:
                first_long = next(n for n, line in enumerate(block) if len(line) > MAX_LINE_BYTES)
                yield from map(bytes.decode, block[:first_long])
                raise line_too_long(number + first_long + 1)
            yield from map(bytes.decode, block)
            start, number = stop, number + len(block)

    def lines_from(self, index: int) -> list[str]:
        first, offset = next(block for block in reversed(self.blocks) if block[0] <= index)
        return list(map(bytes.decode, self.body[offset:].splitlines(keepends=True)))[
            index - first :
        ]


def line_too_long(number: int) -> ListUnreadable:
    return ListUnreadable(
        f"Line {number} of the CSV is longer than {MAX_LINE_BYTES} bytes; no row of "
        "a violator list is that long.",
        errors=[FieldProblem(field="body", message=f"line {number} too long")],
    )


def physical_lines(body: bytes, *, stop_after: int) -> int:
    """Lines of the body, whatever their ending (LF, CRLF or CR), a last one unended included;
    counted a slice at a time, and no further once past `stop_after`."""
    counted, step = 0, 1 << 20
    for start in range(0, len(body), step):
        chunk = body[start : start + step]
        returns = chunk.count(b"\r")
        # One byte more, so that a CRLF split between two slices is seen once.
        pairs = body[start : start + step + 1].count(b"\r\n") if returns else 0
        counted += chunk.count(b"\n") + returns - pairs
        if counted > stop_after:
            return counted
    return counted + (1 if body and not body.endswith((b"\n", b"\r")) else 0)


def quote_left_open(lines: list[str]) -> bool:
    """Whether the CSV's last record ends inside a quoted cell (the lenient reader would take
    the rest of the file as that cell)."""
    try:
        for _ in csv.reader(lines, strict=True):
            pass
    except csv.Error as exc:
        return str(exc) == "unexpected end of data"
    return False


def read_csv(body: bytes, *, max_rows: int) -> ReadRows:
    """The whole of a CSV list at once (csv_slices, in one slice)."""
    (rows,) = csv_slices(body, max_rows=max_rows, size=max_rows + 1)
    return rows


def csv_slices(body: bytes, *, max_rows: int, size: int) -> Iterator[ReadRows]:
    """The records of a CSV with a header row naming the columns (any order), `size` rows at
    a time as they are asked for, so that the first slices are judged and stored while the
    rest is read.

    A body that is not UTF-8 or not text, and a header missing required columns or naming
    unknown ones, are refused here, before any row is read. A line longer than MAX_LINE_BYTES,
    a quote never closed, and a list longer than `max_rows` refuse the whole list when reading
    comes to them (the list's transaction then stores nothing); a record with the wrong number
    of cells is a rejected row. Empty cells count as absent, so an optional column may be left
    blank.
    """
    refuse_mislabelled(body, labelled="text/csv")
    check_utf8(body, what="CSV")
    if b'"' not in body:
        # No quoted cell, so one line is one record: count them before reading any.
        refuse_too_many(physical_lines(body, stop_after=max_rows + 1) - 1, max_rows=max_rows)
    lines = CsvLines(body)
    reader = csv.reader(lines)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise ListUnreadable(f"The CSV cannot be parsed: {exc}.") from exc
    if first is None or not any(cell.strip() for cell in first):
        raise ListUnreadable(
            "The CSV has no header row. Its first line must name the columns: "
            + ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS),
            errors=[FieldProblem(field="header", message="missing")],
        )
    header = tuple(cell.strip() for cell in first)
    check_header(header)
    return csv_records(reader, lines, names=header, max_rows=max_rows, size=size)


def csv_records(
    reader: _csv.Reader, lines: CsvLines, *, names: tuple[str, ...], max_rows: int, size: int
) -> Iterator[ReadRows]:
    """The records after the header, a slice of `size` at a time (the last slice may be
    empty)."""
    width = len(names)
    # Where the last record read starts, in lines (the header, until a row is read).
    last_start, previous = 0, reader.line_num
    rows = ReadRows(names)
    # The loop runs once per row: locals rather than attribute lookups, a count rather than len().
    numbers, records, problems, held = rows.numbers, rows.records, rows.problems, 0
    try:
        for number, cells in enumerate(reader, start=1):
            if number > max_rows:
                raise ListTooLong.at(number, max_rows=max_rows)
            last_start, previous = previous, reader.line_num
            if len(cells) == width:
                numbers.append(number)
                records.append(cells)
            elif cells and (len(cells) > 1 or cells[0].strip()):
                problems[number] = [
                    FieldProblem(
                        field="row",
                        message=f"has {len(cells)} cells; the header names {width} columns",
                    )
                ]
            else:  # a blank line
                continue
            held += 1
            if held == size:
                yield rows
                rows = ReadRows(names)
                numbers, records, problems, held = rows.numbers, rows.records, rows.problems, 0
    except csv.Error as exc:
        raise ListUnreadable(f"The CSV cannot be parsed: {exc}.") from exc
    if quote_left_open(lines.lines_from(last_start)):
        raise ListUnreadable(
            "The CSV ends inside a quoted cell: a quote opened on its last record is never closed.",
            errors=[FieldProblem(field="body", message="a quote is never closed")],
        )
    yield rows


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
    """The batch key and rows of `{"batch_key": ..., "rows": [...]}`; other keys refuse it.

    Walked by json_list.read_list_object, which builds nothing nested or enormous."""
    refuse_mislabelled(body, labelled="application/json")
    text = decode_utf8(body, what="JSON body")
    try:
        document = read_list_object(text, max_rows=max_rows)
    except json.JSONDecodeError as exc:
        raise ListUnreadable(
            f"The body is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    problems = [
        FieldProblem(field=shown(key), message="Extra inputs are not permitted")
        for key in document
        if key not in {"batch_key", "rows"}
    ]
    batch_key, rows = document.get("batch_key"), document.get("rows")
    if not isinstance(batch_key, str):
        problems.append(FieldProblem(field="batch_key", message="a string is required"))
    if not isinstance(rows, JsonRows):
        problems.append(FieldProblem(field="rows", message="a list of row objects is required"))
    if problems or not isinstance(batch_key, str) or not isinstance(rows, JsonRows):
        raise ListUnreadable(
            "Fields at fault: " + ", ".join(sorted({p.field for p in problems})), errors=problems
        )
    read = ReadRows(
        names=None,
        problems={
            number: [FieldProblem(field="row", message="must be an object")]
            for number in rows.not_objects
        },
    )
    # Only a list with an escape that may decode to NUL or a surrogate is searched row by row.
    suspect = SUSPECT_ESCAPE.search(text) is not None
    for number, values in zip(rows.numbers, rows.values, strict=True):
        if suspect and (fields := list(unstorable_fields(values))):
            read.problems[number] = [FieldProblem(field=name, message=MESSAGE) for name in fields]
        else:
            read.numbers.append(number)
            read.records.append(values)
    return batch_key, read
