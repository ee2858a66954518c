"""Idempotency-Key for POSTs: the key's rules, the request fingerprint, and the store of answers.

A caller sends `Idempotency-Key: <key>` (1 to 255 printable ASCII characters) on a POST. The
first request with a key claims it; its answer (status, headers, body) is stored in the SAME
transaction as the change it made, so either both are committed or neither is, and a retry
after a crash or a lost response replays exactly what was committed. Keys are scoped to a
caller and live 24 hours; an expired key is as good as new, and a worker prunes them.

The claim is one statement. `pg_try_advisory_xact_lock` on the (caller, key) pair decides who
goes first without waiting; the INSERT's ON CONFLICT arbitration sees rows committed after the
statement's snapshot was taken, so a request that takes the lock just after another committed
still finds that request's answer. A second copy arriving while the first is in flight does
not wait for it: it gets 409 with Retry-After (as the IETF Idempotency-Key draft asks), and its
retry gets the stored answer.

Only answers of requests whose transaction commits are stored: a request refused with a
problem (401, 422...) rolls back and leaves its key unclaimed, so the caller may fix it and
send it again under the same key.

This module knows nothing of HTTP frameworks; shared.idempotent_routes binds it to FastAPI.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, LargeBinary, SmallInteger, String, TextClause, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.errors import Conflict, FieldProblem, InvalidInput

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_LIFETIME = timedelta(hours=24)
# A request that holds a key is usually done within milliseconds; a copy that collided with
# it should come back soon after.
IN_PROGRESS_RETRY_AFTER_SECONDS = 1
# Of the answer's headers, these are rebuilt when it is sent again rather than stored.
UNSTORED_HEADERS = frozenset({"content-length", "date", "server", "set-cookie"})
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyColumns:
    """Columns of `<schema>.idempotency_key`; each service maps it on its own base."""

    __tablename__ = "idempotency_key"

    # Whose key it is (intake: the client, the same across rotated secrets). Keys of different
    # callers never meet.
    caller_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_line: Mapped[str] = mapped_column(String(600))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    # NULL only inside the claiming transaction: the answer is written before it commits.
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency-key-invalid"
    title = "The Idempotency-Key header is not valid"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency-key-reused"
    title = "The Idempotency-Key was already used for a different request"


class IdempotentRequestInProgress(Conflict):
    code = "idempotency-key-in-use"
    title = "A request with this Idempotency-Key is still being processed"


def _header_problem(message: str) -> list[FieldProblem]:
    return [FieldProblem(field=IDEMPOTENCY_HEADER, message=message)]


def check_key(raw: str) -> str:
    """The key as sent, or 422 naming the header: 1-255 printable ASCII characters."""
    if not raw:
        message = "must not be empty"
    elif len(raw) > MAX_KEY_LENGTH:
        message = f"must be at most {MAX_KEY_LENGTH} characters"
    elif not all(" " <= character <= "~" for character in raw):
        message = "must be printable ASCII characters only"
    else:
        return raw
    raise IdempotencyKeyInvalid(
        f"The {IDEMPOTENCY_HEADER} header {message}.", errors=_header_problem(message)
    )


def is_json_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def request_fingerprint(
    *, method: str, path: str, query: str, content_type: str | None, body: bytes
) -> str:
    """SHA-256 of what the request asks for.

    A JSON body is hashed in canonical form (sorted keys, no insignificant whitespace), so a
    retry that serialises the same data differently is still the same request; any other body
    is hashed as sent. The method and path are part of it: one key on two endpoints is two
    different requests.
    """
    digest = hashlib.sha256()
    for part in (method.upper(), path, query):
        digest.update(part.encode())
        digest.update(b"\n")
    if is_json_media_type(content_type) and body:
        try:
            document = json.loads(body)
        except ValueError:
            digest.update(b"raw\n")
        else:
            digest.update(b"json\n")
            body = json.dumps(
                document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
    else:
        digest.update(b"raw\n")
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    """The answer first given to a key, to send again."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class KeyClaim:
    """This request owns the key: its answer must be recorded before its transaction commits."""

    schema: str
    caller_ref: str
    key: str


# The statements are made once per schema: text() and its compilation are not free, and they run
# on every POST that carries a key.


@cache
def claim_statement(schema: str) -> TextClause:
    return text(
        f"INSERT INTO {schema}.idempotency_key AS stored "
        "(caller_ref, key, request_line, request_fingerprint, created_at, expires_at) "
        "SELECT :caller_ref, :key, :request_line, :fingerprint, now(), "
        "now() + make_interval(secs => :lifetime) "
        "WHERE pg_try_advisory_xact_lock(hashtextextended(:lock_name, 0)) "
        "ON CONFLICT (caller_ref, key) DO UPDATE SET "
        "request_line = EXCLUDED.request_line, "
        "request_fingerprint = EXCLUDED.request_fingerprint, "
        "response_status = NULL, response_headers = NULL, response_body = NULL, "
        "created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at "
        # An expired key is taken over as if it were new; a live one is left alone.
        "WHERE stored.expires_at <= now() "
        "RETURNING 1"
    )


@cache
def stored_answer_statement(schema: str) -> TextClause:
    return text(
        "SELECT request_line, request_fingerprint, response_status, response_headers, "
        f"response_body FROM {schema}.idempotency_key "
        "WHERE caller_ref = :caller_ref AND key = :key AND expires_at > now()"
    )


@cache
def record_statement(schema: str) -> TextClause:
    return text(
        f"UPDATE {schema}.idempotency_key SET response_status = :status, "
        "response_headers = CAST(:headers AS JSONB), response_body = :body "
        "WHERE caller_ref = :caller_ref AND key = :key RETURNING 1"
    )


async def claim_key(
    session: AsyncSession,
    *,
    schema: str,
    caller_ref: str,
    key: str,
    fingerprint: str,
    request_line: str,
    lifetime: timedelta = KEY_LIFETIME,
) -> KeyClaim | StoredAnswer:
    """Claim the key for this request in the session's transaction, or return the answer
    already stored for it.

    Raises IdempotencyKeyReused when the stored answer was for a different request, and
    IdempotentRequestInProgress when another request holds the key right now.
    """
    claimed = await session.execute(
        claim_statement(schema),
        {
            "caller_ref": caller_ref,
            "key": key,
            "request_line": request_line[:600],
            "fingerprint": fingerprint,
            "lifetime": lifetime.total_seconds(),
            "lock_name": f"{schema}.idempotency_key\x1f{caller_ref}\x1f{key}",
        },
    )
    if claimed.first() is not None:
        return KeyClaim(schema=schema, caller_ref=caller_ref, key=key)
    # A new statement, so a new snapshot: it sees an answer committed a moment ago.
    stored = (
        await session.execute(
            stored_answer_statement(schema),
            {"caller_ref": caller_ref, "key": key},
        )
    ).first()
    if stored is None or stored.response_status is None:
        raise IdempotentRequestInProgress(
            f"Another request with this {IDEMPOTENCY_HEADER} is being processed; retry shortly "
            "to receive its answer.",
            headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)},
        )
    if stored.request_fingerprint != fingerprint:
        message = f"was used for a different request ({stored.request_line} with another body)"
        raise IdempotencyKeyReused(
            f"This {IDEMPOTENCY_HEADER} {message}; use a new key for a new request.",
            errors=_header_problem(message),
        )
    return StoredAnswer(
        status=stored.response_status,
        headers=[(name, value) for name, value in stored.response_headers or []],
        body=bytes(stored.response_body or b""),
    )


def headers_to_store(headers: Sequence[tuple[str, str]]) -> list[list[str]]:
    return [[name, value] for name, value in headers if name.lower() not in UNSTORED_HEADERS]


async def record_answer(
    session: AsyncSession,
    *,
    claim: KeyClaim,
    status: int,
    headers: Sequence[tuple[str, str]],
    body: bytes,
) -> None:
    """Store the answer under the claimed key, in the same transaction as the change."""
    updated = await session.execute(
        record_statement(claim.schema),
        {
            "status": status,
            "headers": json.dumps(headers_to_store(headers)),
            "body": body,
            "caller_ref": claim.caller_ref,
            "key": claim.key,
        },
    )
    if updated.first() is None:
        raise RuntimeError("the claimed idempotency key vanished before its answer was stored")


async def prune_expired_keys(session: AsyncSession, *, schema: str, batch: int = 5000) -> int:
    """Delete up to one batch of expired keys; returns how many. Rows a request is taking over
    right now are skipped, not waited for."""
    deleted = await session.execute(
        text(
            f"DELETE FROM {schema}.idempotency_key WHERE ctid IN ("
            f"SELECT ctid FROM {schema}.idempotency_key WHERE expires_at <= now() "
            "LIMIT :batch FOR UPDATE SKIP LOCKED)"
        ),
        {"batch": batch},
    )
    return cast("CursorResult[Any]", deleted).rowcount
