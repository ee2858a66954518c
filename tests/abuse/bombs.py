"""Violator lists built to cost the server more than they are worth, at a chosen size: the S4
test sends them a few MB large, `make bench` (figure S4) near the 45 MiB cap."""

from __future__ import annotations

from collections.abc import Callable

from tests.factories import violator_list_csv, violator_row

CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}
HEADER = violator_list_csv([])
DEEP = 10_000

# (what was tried, the body (made when called: some are tens of MB), content headers, the
# status it must get)
Bomb = tuple[str, Callable[[], bytes], dict[str, str], int]


def deep_json(depth: int = DEEP) -> bytes:
    return b"[" * depth + b"]" * depth


def list_bombs(*, size: int) -> list[Bomb]:
    """Each bomb about `size` bytes (those whose point is not their size are small), and a
    list over the 45 MiB cap."""
    return [
        (
            "100,001 CSV rows",
            lambda: HEADER + violator_list_csv([violator_row(1)])[len(HEADER) :] * 100_001,
            CSV,
            422,
        ),
        ("blank CSV lines", lambda: HEADER + b"\n" * size, CSV, 422),
        ("CRLF blank lines", lambda: HEADER + b"\r\n" * (size // 2), CSV, 422),
        ("one enormous cell", lambda: HEADER + b"a" * size, CSV, 422),
        (
            "one quoted cell over many lines",
            lambda: HEADER + b'"' + b"ab\n" * (size // 3),
            CSV,
            422,
        ),
        (
            "a quote never closed",
            lambda: (
                violator_list_csv([violator_row(1), violator_row(2)])
                + b'"MTI-EMP-3,never closed\n'
                + b"x,y\n" * 50
            ),
            CSV,
            422,
        ),
        ("the whole list nested 10,000 deep", lambda: deep_json(), JSON, 422),
        (
            "rows nested 10,000 deep",
            lambda: b'{"batch_key": "deep", "rows": ' + deep_json() + b"}",
            JSON,
            422,
        ),
        (
            "a row nested 10,000 deep",
            lambda: b'{"batch_key": "deep", "rows": [{"name": ' + deep_json() + b"}]}",
            JSON,
            422,
        ),
        (
            "empty JSON rows",
            lambda: b'{"batch_key": "many", "rows": [' + b"{}," * (size // 3) + b"{}]}",
            JSON,
            422,
        ),
        (
            "empty arrays as rows",
            lambda: b'{"batch_key": "many", "rows": [' + b"[]," * (size // 3) + b"[]]}",
            JSON,
            422,
        ),
        (
            "a row of countless values",
            lambda: (
                b'{"batch_key": "wide", "rows": [{"name": [' + b'"ab",' * (size // 5) + b'"ab"]}]}'
            ),
            JSON,
            422,
        ),
        (
            "a batch key of countless values",
            lambda: b'{"batch_key": [' + b"1.5," * (size // 4) + b'1], "rows": []}',
            JSON,
            422,
        ),
        ("a list over the cap", lambda: HEADER + b"x" * 50_000_000, CSV, 413),
    ]
