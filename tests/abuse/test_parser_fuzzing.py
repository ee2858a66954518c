"""S8: hypothesis fuzzing of every parser of untrusted bytes: the violator-list readers (CSV and
JSON) and the row judge after them, the list's Content-Type reading, the evidence snapshot
sniffer, and the shared guard against unstorable text. Whatever the bytes, each either returns
or raises one of its own problem errors (a 4xx for the caller): never anything else, which
would be a 500. The JSON reader, which walks the list itself, is also checked against
json.loads on the lists json.dumps writes.

Short in CI (S8_EXAMPLES, default 150 per property); `S8_EXAMPLES=100000 make test
PYTEST_ARGS=tests/abuse/test_parser_fuzzing.py` is the long run."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.evidence.media_types import (
    SNIFF_BYTES,
    declared_media_type,
    describe_refused,
    sniff_media_type,
)
from services.intake.violator_lists.judging import judge_rows
from services.intake.violator_lists.parsing import read_csv, read_json
from services.intake.violator_lists.router import source_format_of
from services.intake.violator_lists.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from shared.errors import ProblemError
from shared.storable_text import RefuseUnstorableText, unstorable, unstorable_fields

EXAMPLES = int(os.environ.get("S8_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
RULES = {"CR1964-22", "CR1964-18"}
TODAY = date(2026, 12, 1)
MAX_ROWS = 50

# Cells an MTI might send, and the characters that break parsers: quotes, separators, line
# ends, NUL, a BOM, a lone surrogate's UTF-8-ish bytes, and non-ASCII letters.
cells = st.one_of(
    st.sampled_from(["", " ", "CR1964-22", "2026-10-15", "2099-01-01", "true", "facebook", "x"]),
    st.text(alphabet=st.sampled_from('a,"\r\n\t\x00\ufeffé€ \\'), max_size=12),
    st.text(max_size=20),
)


@st.composite
def csv_documents(draw: st.DrawFn) -> bytes:
    """A CSV that is nearly right: a header of known (and sometimes unknown) columns, rows of
    cells, then sometimes damaged: cut short, spliced with raw bytes, or left with an open
    quote."""
    header = draw(st.lists(st.sampled_from([*COLUMNS, "cnic", ""]), min_size=0, max_size=12))
    rows = draw(st.lists(st.lists(cells, max_size=len(header) + 2), max_size=MAX_ROWS + 5))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    raw = text.encode("utf-8", errors="surrogatepass")
    damage = draw(st.sampled_from(["none", "cut", "splice", "open quote", "bom"]))
    if damage == "cut" and raw:
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "splice":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=16)) + raw[at:]
    elif damage == "open quote":
        raw += b'"' + draw(st.binary(max_size=30))
    elif damage == "bom":
        raw = b"\xef\xbb\xbf" + raw
    return raw


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["CR1964-22", "2026-10-15", "facebook"]),
)
flat_rows = st.dictionaries(
    st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), json_scalars, max_size=12
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    """A list object nearly right (rows flat or not, extra keys, a batch key of any type), then
    sometimes damaged like the CSVs."""
    document: dict[str, Any] = {}
    if draw(st.booleans()):
        document["batch_key"] = draw(st.one_of(st.text(max_size=10), json_values))
    if draw(st.booleans()):
        document["rows"] = draw(
            st.one_of(
                st.lists(st.one_of(flat_rows, json_values), max_size=MAX_ROWS + 5), json_values
            )
        )
    if draw(st.booleans()):
        document[draw(st.text(max_size=5))] = draw(json_values)
    body = draw(st.one_of(st.just(document), json_values))
    text = json.dumps(
        body, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1]))
    )
    raw = text.encode("utf-8", errors="surrogatepass")
    damage = draw(st.sampled_from(["none", "none", "cut", "splice", "nest"]))
    if damage == "cut" and raw:
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "splice":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=8)) + raw[at:]
    elif damage == "nest":
        depth = draw(st.integers(1, 3000))
        raw = raw.replace(b"[", b"[" * depth, 1)
    return raw


def judged(read: Any) -> None:
    """The rows read go on to the judge, which must take whatever the reader let through."""
    judge_rows(read, known_rules=RULES, today=TODAY)


@FUZZ
@given(body=st.one_of(csv_documents(), st.binary(max_size=300)))
def test_any_csv_body_is_read_or_refused_with_a_problem(body: bytes) -> None:
    try:
        judged(read_csv(body, max_rows=MAX_ROWS))
    except ProblemError as refused:
        assert 400 <= refused.status < 500


@FUZZ
@given(body=st.one_of(json_documents(), st.binary(max_size=300)))
def test_any_json_body_is_read_or_refused_with_a_problem(body: bytes) -> None:
    try:
        _, rows = read_json(body, max_rows=MAX_ROWS)
        judged(rows)
    except ProblemError as refused:
        assert 400 <= refused.status < 500


@FUZZ
@given(
    batch_key=st.text(max_size=10),
    rows=st.lists(flat_rows, max_size=MAX_ROWS),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2]),
)
def test_the_json_reader_reads_what_json_loads_reads(
    batch_key: str, rows: list[dict[str, Any]], ensure_ascii: bool, indent: int | None
) -> None:
    """The hand-walked reader and the standard one agree on every list json.dumps writes
    (rows holding text that cannot be stored are set aside as rejected rows)."""
    body = json.dumps(
        {"batch_key": batch_key, "rows": rows}, ensure_ascii=ensure_ascii, indent=indent
    )
    try:
        key, read = read_json(body.encode("utf-8", errors="surrogatepass"), max_rows=MAX_ROWS)
    except ProblemError as refused:
        # Only text that is not UTF-8 (a lone surrogate written raw) may refuse the list.
        assert not ensure_ascii and unstorable(body), refused.detail
        return
    expected = json.loads(body)
    assert key == expected["batch_key"]
    storable = [
        (number, row)
        for number, row in enumerate(expected["rows"], start=1)
        if not list(unstorable_fields(row))
    ]
    assert list(zip(read.numbers, read.values, strict=True)) == storable
    assert set(read.problems) == set(range(1, len(rows) + 1)) - set(read.numbers)


@FUZZ
@given(
    content_type=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.builds(
            lambda kind, params: kind + params,
            st.sampled_from(["text/csv", "application/json", "TEXT/CSV ", "text/html"]),
            st.text(alphabet=st.sampled_from(';= "charsetutf8-latin1'), max_size=30),
        ),
    )
)
def test_any_content_type_of_a_list_is_understood_or_refused(content_type: str | None) -> None:
    try:
        assert source_format_of(content_type) in {"csv", "json"}
    except ProblemError as refused:
        assert 400 <= refused.status < 500


signatures = st.sampled_from(
    [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"%PDF-", b"PK\x03\x04", b"\x1f\x8b", b"MZ", b""]
)
html_starts = st.sampled_from([b"<!DOCTYPE HTML", b"<html", b"<p", b"<!--", b"\xef\xbb\xbf <b"])


@FUZZ
@given(
    head=st.one_of(
        st.binary(max_size=SNIFF_BYTES + 10),
        st.builds(bytes.__add__, signatures, st.binary(max_size=40)),
        st.builds(bytes.__add__, html_starts, st.binary(max_size=40)),
    ),
    declared=st.one_of(st.none(), st.text(max_size=30)),
)
def test_the_snapshot_sniffer_names_a_type_or_none_for_any_bytes(
    head: bytes, declared: str | None
) -> None:
    sniffed = sniff_media_type(head[:SNIFF_BYTES])
    assert sniffed in {None, "image/png", "image/jpeg", "application/pdf", "text/html"}
    assert isinstance(describe_refused(head), str)
    assert isinstance(declared_media_type(declared), str)


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), json_documents()))
def test_the_unstorable_text_guard_takes_any_body(body: bytes) -> None:
    fields = RefuseUnstorableText.body_fields(body)
    assert all(isinstance(name, str) and not unstorable(name) for name in fields)
