"""Reading a JSON violator list `{"batch_key": ..., "rows": [...]}` without letting its
sender choose what the server builds.

`json.loads` would build the whole document before anyone could count it: a 45 MB body of
`{},{},...` is 15 million dicts (over a gigabyte), and 10,000 nested brackets exhaust the
interpreter's recursion. So the outer object and the rows array are walked here, one value at
a time, with the standard decoder's `raw_decode` for each scalar and each row:

- a row must match FLAT_OBJECT (names mapped to strings, numbers, true, false or null) within
  MAX_ROW_CHARS characters before it is decoded; anything nested or longer refuses the list;
- reading stops at the first row past `max_rows`;
- a value of the outer object other than `rows` is decoded only if it is a scalar (an array or
  object there refuses the list at once, naming it).

Malformed JSON raises json.JSONDecodeError, as json.loads would; the caller words it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from services.intake.violator_lists.errors import ListTooLong, ListUnreadable
from shared.errors import FieldProblem

DECODER = json.JSONDecoder()
WHITESPACE = re.compile(r"[ \t\n\r]*")
# A row is a few KB at most (the finding, its longest cell, is 2,000 characters).
MAX_ROW_CHARS = 65_536
_SPACE = r"[ \t\n\r]*+"
_STRING = r'"(?:[^"\\\n]++|\\.)*+"'
# As json.loads takes them: NaN and the infinities too (a row holding one is then rejected).
_SCALAR = rf"(?:{_STRING}|true|false|null|NaN|-?Infinity|-?[0-9][0-9.eE+\-]*+)"
_MEMBER = rf"{_STRING}{_SPACE}:{_SPACE}{_SCALAR}{_SPACE}"
FLAT_OBJECT = re.compile(rf"\{{{_SPACE}(?:{_MEMBER}(?:,{_SPACE}{_MEMBER})*+)?\}}")


@dataclass
class JsonRows:
    """The rows array as read: the objects' numbers (1-based) and values, and the numbers of
    the scalars found in their place."""

    numbers: list[int] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    not_objects: list[int] = field(default_factory=list)


def skip_space(text: str, position: int) -> int:
    match = WHITESPACE.match(text, position)
    return match.end() if match else position


def expect(text: str, position: int, wanted: str, what: str) -> int:
    if text.startswith(wanted, position):
        return position + 1
    raise json.JSONDecodeError(f"Expecting {what}", text, position)


def read_list_object(text: str, *, max_rows: int) -> dict[str, Any]:
    """The outer object's keys and values, `rows` read as JsonRows."""
    position = skip_space(text, 0)
    if not text.startswith("{", position):
        raise ListUnreadable(
            'The body must be a JSON object {"batch_key": ..., "rows": [...]}.',
            errors=[FieldProblem(field="body", message="must be an object")],
        )
    document: dict[str, Any] = {}
    position = skip_space(text, position + 1)
    if text.startswith("}", position):
        return finish(text, position + 1, document)
    while True:
        if not text.startswith('"', position):
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, position
            )
        key, position = DECODER.raw_decode(text, position)
        position = skip_space(text, expect(text, skip_space(text, position), ":", "':' delimiter"))
        if key == "rows" and text.startswith("[", position):
            document[key], position = read_rows(text, position, max_rows=max_rows)
        elif text.startswith(("[", "{"), position):
            refuse_nested(key, document)
        else:
            document[key], position = DECODER.raw_decode(text, position)
        position = skip_space(text, position)
        if text.startswith("}", position):
            return finish(text, position + 1, document)
        position = skip_space(text, expect(text, position, ",", "',' delimiter"))


def finish(text: str, position: int, document: dict[str, Any]) -> dict[str, Any]:
    if skip_space(text, position) != len(text):
        raise json.JSONDecodeError("Extra data", text, skip_space(text, position))
    return document


def refuse_nested(key: str, document: dict[str, Any]) -> None:
    """An array or object where only a scalar may stand: refused before it is built."""
    named = [key, *document]
    problems = [
        FieldProblem(
            field=name,
            message={
                "batch_key": "a string is required",
                "rows": "a list of row objects is required",
            }.get(name, "Extra inputs are not permitted"),
        )
        for name in named
        if name == key or name not in {"batch_key", "rows"}
    ]
    raise ListUnreadable(
        "Fields at fault: " + ", ".join(sorted({p.field for p in problems})), errors=problems
    )


def read_rows(text: str, position: int, *, max_rows: int) -> tuple[JsonRows, int]:
    rows = JsonRows()
    position = skip_space(text, position + 1)
    if text.startswith("]", position):
        return rows, position + 1
    number = 0
    while True:
        number += 1
        if number > max_rows:
            raise ListTooLong.at(number, max_rows=max_rows)
        if text.startswith("{", position):
            if FLAT_OBJECT.match(text, position, position + MAX_ROW_CHARS) is None:
                raise ListUnreadable(
                    f"Row {number} is not a flat JSON object of at most {MAX_ROW_CHARS} "
                    "characters (column names mapped to text, numbers, true, false or null).",
                    errors=[
                        FieldProblem(field=f"rows.{number - 1}", message="must be a flat object")
                    ],
                )
            row, position = DECODER.raw_decode(text, position)
            rows.numbers.append(number)
            rows.values.append(row)
        elif text.startswith("[", position):
            raise ListUnreadable(
                f"Row {number} is an array; each row must be an object.",
                errors=[FieldProblem(field=f"rows.{number - 1}", message="must be an object")],
            )
        else:
            _, position = DECODER.raw_decode(text, position)
            rows.not_objects.append(number)
        position = skip_space(text, position)
        if text.startswith("]", position):
            return rows, position + 1
        position = skip_space(text, expect(text, position, ",", "',' delimiter"))
