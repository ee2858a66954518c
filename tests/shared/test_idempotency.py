"""The pure parts of Idempotency-Key: which keys are accepted, and when two requests count as
the same request."""

from __future__ import annotations

import json

import pytest

from shared.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyInvalid,
    check_key,
    headers_to_store,
    request_fingerprint,
)


@pytest.mark.parametrize(
    "key",
    ["a", "k" * MAX_KEY_LENGTH, "2f6c1d0e-4b1a-4c55-9e4f-0b7e8a2d9c11", "with spaces and ~!@#"],
    ids=["one character", "255 characters", "a uuid", "spaces and punctuation"],
)
def test_printable_ascii_keys_up_to_255_characters_are_accepted(key: str) -> None:
    assert check_key(key) == key


BAD_KEYS = [
    ("", "an empty key"),
    ("k" * (MAX_KEY_LENGTH + 1), "256 characters"),
    ("clé-42", "a non-ASCII letter"),
    ("tab\there", "a tab"),
    ("line\nbreak", "a line break"),
    ("del\x7f", "the DEL control character"),
]


@pytest.mark.parametrize(("key", "tried"), BAD_KEYS, ids=[tried for _, tried in BAD_KEYS])
def test_other_keys_are_refused_naming_the_header(key: str, tried: str) -> None:
    with pytest.raises(IdempotencyKeyInvalid) as refused:
        check_key(key)
    assert refused.value.status == 422, tried
    assert [problem.field for problem in refused.value.errors] == ["Idempotency-Key"], tried
    assert "Idempotency-Key" in refused.value.detail, tried


def fingerprint(
    body: bytes,
    *,
    method: str = "POST",
    path: str = "/v1/reports",
    query: str = "",
    content_type: str | None = "application/json",
) -> str:
    return request_fingerprint(
        method=method, path=path, query=query, content_type=content_type, body=body
    )


DOCUMENT = {"platform": "x", "subjects": [{"name": "A", "office": "B"}], "note": "ünïcode"}


def test_the_same_json_serialised_differently_is_the_same_request() -> None:
    compact = json.dumps(DOCUMENT, separators=(",", ":")).encode()
    # Another client library: keys in another order, spaces, non-ASCII escaped.
    reordered = json.dumps(dict(reversed(DOCUMENT.items())), indent=2, ensure_ascii=True).encode()
    assert fingerprint(compact) == fingerprint(reordered)
    assert fingerprint(compact) == fingerprint(
        compact, content_type="application/json; charset=utf-8"
    )


ORIGINAL = json.dumps(DOCUMENT).encode()
DIFFERENT_REQUESTS = [
    ("another value", fingerprint(json.dumps({**DOCUMENT, "platform": "facebook"}).encode())),
    ("the same data nested differently", fingerprint(json.dumps([DOCUMENT]).encode())),
    ("another endpoint", fingerprint(ORIGINAL, path="/v1/permission-requests")),
    ("another method", fingerprint(ORIGINAL, method="PUT")),
    ("a query string", fingerprint(ORIGINAL, query="dry_run=true")),
]


@pytest.mark.parametrize(
    ("tried", "other"), DIFFERENT_REQUESTS, ids=[tried for tried, _ in DIFFERENT_REQUESTS]
)
def test_a_different_request_has_a_different_fingerprint(tried: str, other: str) -> None:
    assert fingerprint(ORIGINAL) != other, tried


def test_bodies_that_are_not_json_are_compared_byte_for_byte() -> None:
    csv = b"employee_ref,name\nE1,A\n"
    assert fingerprint(csv, content_type="text/csv") == fingerprint(csv, content_type="text/csv")
    assert fingerprint(csv, content_type="text/csv") != fingerprint(
        csv.replace(b"\n", b"\r\n"), content_type="text/csv"
    )
    # Malformed JSON is hashed as sent rather than failing here; the route refuses it anyway.
    assert fingerprint(b"{not json") != fingerprint(b"{not  json")


def test_headers_rebuilt_for_each_answer_are_not_stored() -> None:
    stored = headers_to_store(
        [
            ("content-type", "application/json"),
            ("location", "/v1/reports/1"),
            ("content-length", "42"),
            ("date", "Mon, 23 Nov 2026 10:00:00 GMT"),
        ]
    )
    assert stored == [["content-type", "application/json"], ["location", "/v1/reports/1"]]
