"""The violator-list reader and row judge as pure functions: what each kind of bad input gets."""

from __future__ import annotations

import json
from datetime import date

import pytest

from services.intake.violator_lists import parsing
from services.intake.violator_lists.errors import ListTooLong, ListUnreadable, UnsupportedListType
from services.intake.violator_lists.judging import judge_rows
from services.intake.violator_lists.parsing import read_csv, read_json
from shared.errors import FieldProblem
from tests.factories import VIOLATOR_LIST_COLUMNS, violator_list_csv, violator_row

TODAY = date(2026, 11, 30)
RULES = {"CR1964-22", "CR1964-18"}


def test_csv_rows_are_numbered_after_the_header_and_blank_cells_are_absent() -> None:
    body = violator_list_csv([violator_row(1), violator_row(2, office="", platform="")])
    rows = read_csv(body, max_rows=10)
    assert rows.numbers == [1, 2]
    assert "office" not in rows.values[1] and "platform" not in rows.values[1]
    verdicts = judge_rows(rows, known_rules=RULES, today=TODAY)
    assert [number for number, _ in verdicts.accepted] == [1, 2]
    assert verdicts.accepted[1][1]["platform"] == "other"
    assert verdicts.accepted[0][1]["notice_and_reply_on_record"] is False


def test_csv_columns_may_come_in_any_order_with_a_bom_and_quoted_newlines() -> None:
    columns = tuple(reversed(VIOLATOR_LIST_COLUMNS))
    body = b"\xef\xbb\xbf" + violator_list_csv(
        [violator_row(1, finding="First line.\nSecond line.")], columns=columns
    )
    rows = read_csv(body, max_rows=10)
    (accepted,) = judge_rows(rows, known_rules=RULES, today=TODAY).accepted
    assert accepted[1]["finding"] == "First line.\nSecond line."


def test_a_blank_line_is_skipped_but_keeps_its_number() -> None:
    body = (
        violator_list_csv([violator_row(1)])
        + b"\r\n"
        + violator_list_csv([violator_row(3)]).split(b"\r\n", 1)[1]
    )
    assert read_csv(body, max_rows=10).numbers == [1, 3]


def test_a_row_with_the_wrong_number_of_cells_is_a_rejected_row() -> None:
    body = violator_list_csv([violator_row(1)]) + b"a,b\r\n"
    verdicts = judge_rows(read_csv(body, max_rows=10), known_rules=RULES, today=TODAY)
    assert [(r.row, [e.field for e in r.errors]) for r in verdicts.rejected] == [(2, ["row"])]


@pytest.mark.parametrize(
    ("case", "body", "named"),
    [
        ("Latin-1 bytes", "name\nZoë".encode("latin-1"), "UTF-8"),
        ("no header", b"", "header"),
        ("blank header", b" , ,\n", "header"),
        (
            "missing columns",
            violator_list_csv([], columns=("employee_ref", "name", "designation")),
            "rule, finding, found_on, institution_finding_ref",
        ),
        ("unknown column", violator_list_csv([], columns=(*VIOLATOR_LIST_COLUMNS, "cnic")), "cnic"),
        ("column twice", violator_list_csv([], columns=(*VIOLATOR_LIST_COLUMNS, "name")), "twice"),
    ],
)
def test_a_csv_that_cannot_be_read_is_refused_whole(case: str, body: bytes, named: str) -> None:
    with pytest.raises(ListUnreadable) as refused:
        read_csv(body, max_rows=10)
    assert named in refused.value.detail, case


@pytest.mark.parametrize(
    ("signature", "named"),
    [
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"PK\x03\x04", "zip"),
        (b"%PDF-1.4", "PDF"),
        (b"\xff\xd8\xff\xe0", "JPEG"),
        (b"employee_ref\x00\x00", "NUL"),
    ],
)
def test_a_binary_file_labelled_as_text_is_refused(signature: bytes, named: str) -> None:
    for read in (read_csv, lambda body, max_rows: read_json(body, max_rows=max_rows)):
        with pytest.raises(UnsupportedListType) as refused:
            read(signature + bytes(64), max_rows=10)
        assert named in refused.value.detail


def test_more_rows_than_allowed_refuses_the_list_before_judging_any() -> None:
    with pytest.raises(ListTooLong):
        read_csv(violator_list_csv([violator_row(n) for n in range(4)]), max_rows=3)
    with pytest.raises(ListTooLong):
        read_json(json.dumps({"batch_key": "k", "rows": [{}] * 4}).encode(), max_rows=3)
    assert len(read_csv(violator_list_csv([violator_row(n) for n in range(3)]), max_rows=3)) == 3


def test_json_rows_are_numbered_from_one_and_non_objects_are_rejected_rows() -> None:
    key, rows = read_json(
        json.dumps({"batch_key": "K-1", "rows": [violator_row(1), 7]}).encode(), max_rows=10
    )
    assert key == "K-1"
    verdicts = judge_rows(rows, known_rules=RULES, today=TODAY)
    assert [n for n, _ in verdicts.accepted] == [1]
    assert [(r.row, r.errors[0].field) for r in verdicts.rejected] == [(2, "row")]


@pytest.mark.parametrize(
    ("case", "body", "fields"),
    [
        ("not JSON", b"{", None),
        ("a list", b"[]", ["body"]),
        ("rows not a list", b'{"batch_key": "k", "rows": {}}', ["rows"]),
        ("batch key not a string", b'{"batch_key": 5, "rows": []}', ["batch_key"]),
        ("unknown field", b'{"batch_key": "k", "rows": [], "extra": 1}', ["extra"]),
    ],
)
def test_a_json_list_of_the_wrong_shape_is_refused(
    case: str, body: bytes, fields: list[str] | None
) -> None:
    with pytest.raises(ListUnreadable) as refused:
        read_json(body, max_rows=10)
    if fields is not None:
        assert [e.field for e in refused.value.errors] == fields, case


@pytest.mark.parametrize(
    ("case", "overrides", "fields"),
    [
        ("rule not in the catalogue", {"rule": "CR1964-99"}, ["rule"]),
        ("found today is fine", {"found_on": "2026-11-30"}, []),
        ("found tomorrow", {"found_on": "2026-12-01"}, ["found_on"]),
        ("date in another format", {"found_on": "30/11/2026"}, ["found_on"]),
        ("platform not offered", {"platform": "myspace"}, ["platform"]),
        (
            "flag not a boolean",
            {"notice_and_reply_on_record": "perhaps"},
            ["notice_and_reply_on_record"],
        ),
        ("flag as CSV writes it", {"notice_and_reply_on_record": "true"}, []),
        ("empty name", {"name": "  "}, ["name"]),
        ("finding too long", {"finding": "x" * 2001}, ["finding"]),
        ("server-owned field", {"status": "recorded"}, ["status"]),
    ],
)
def test_each_row_is_judged_on_its_own(
    case: str, overrides: dict[str, object], fields: list[str]
) -> None:
    rows = read_json(
        json.dumps(
            {"batch_key": "k", "rows": [violator_row(1, **overrides), violator_row(2)]}
        ).encode(),
        max_rows=10,
    )[1]
    verdicts = judge_rows(rows, known_rules=RULES, today=TODAY)
    rejected = {r.row: [e.field for e in r.errors] for r in verdicts.rejected}
    assert rejected == ({1: fields} if fields else {}), case
    assert 2 in {n for n, _ in verdicts.accepted}


def test_rows_are_judged_in_slices_that_keep_every_row_once() -> None:
    body = violator_list_csv([violator_row(n) for n in range(1, 6)]) + b"a,b\r\n"
    rows = read_csv(body, max_rows=10)
    parts = rows.chunks(2)
    assert [part.numbers for part in parts] == [[1, 2], [3, 4], [5]]
    assert list(parts[0].problems) == [6] and not parts[1].problems
    assert sum(len(part) for part in parts) == len(rows) == 6
    assert [len(part) for part in read_csv(violator_list_csv([]), max_rows=1).chunks(2)] == [0]


def awkward_csv(line_end: bytes) -> bytes:
    """Rows whose lines end in `line_end`, with quoted cells spanning lines (ended by every
    kind of line end), blank lines and a short row."""
    text = violator_list_csv(
        [
            violator_row(n, finding=f'Said "x"\r\non line {n}\rand\n{n}' if n % 3 else "plain")
            for n in range(1, 40)
        ]
    )
    return text.replace(b"\r\n", line_end) + line_end + b"a,b" + line_end + b'INQ-9,"open'


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_csv_lines_read_a_block_at_a_time_read_as_one_body(
    line_end: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lines are cut a block at a time: wherever the cuts fall (here every few hundred
    bytes, between a CR and its LF too), the rows, the faults and the refusals are the same."""
    whole = awkward_csv(line_end)
    closed = whole + b'"' + line_end
    expected = read_csv(closed, max_rows=100)
    with pytest.raises(ListUnreadable, match="quoted cell") as refused_whole:
        read_csv(whole, max_rows=100)
    too_long = closed.replace(b"plain", b"p" * 700, 1)
    too_long_line = len(too_long[: too_long.index(b"p" * 700)].splitlines())

    monkeypatch.setattr(parsing, "MAX_LINE_BYTES", 600)
    for block in (602, 613, 1_000):
        monkeypatch.setattr(parsing, "LINES_BLOCK_BYTES", block)
        read = read_csv(closed, max_rows=100)
        assert (read.numbers, read.values, read.problems) == (
            expected.numbers,
            expected.values,
            expected.problems,
        )
        assert read.numbers[-1] == 39 and 41 in read.problems
        with pytest.raises(ListUnreadable, match="quoted cell") as refused:
            read_csv(whole, max_rows=100)
        assert refused.value.errors == refused_whole.value.errors
        with pytest.raises(ListUnreadable) as long_line:
            read_csv(too_long, max_rows=100)
        assert long_line.value.errors == [
            FieldProblem(field="body", message=f"line {too_long_line} too long")
        ]
