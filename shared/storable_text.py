"""Text PostgreSQL cannot store, refused as bad input before any handler sees it.

A `text` or `jsonb` value cannot hold U+0000, and an unpaired UTF-16 surrogate (which JSON's
`\\ud800` escape produces) cannot even be encoded for the driver: either one, let through,
fails the request's INSERT with a 500. `RefuseUnstorableText` answers 422 instead, naming the
JSON field, query parameter or path at fault, for every route of every service; bodies larger
than its `max_body_bytes` (violator lists, evidence uploads) are left to the parsers of their
own routes, which check the same with `unstorable`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import (
    FieldProblem,
    InvalidInput,
    ProblemError,
    instance_of,
    problem_response,
)

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In raw JSON: a NUL byte, or an escape that may decode to NUL or a surrogate. Only a body
# holding one of these is decoded here; every other body passes untouched.
SUSPECT_JSON = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])")
MESSAGE = "must not contain NUL characters or unpaired surrogates"


def unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def shown(name: str) -> str:
    """A name fit to echo (and to store, in a list's rejections): unstorable characters as
    U+FFFD."""
    return UNSTORABLE.sub("\ufffd", name)


def unstorable_fields(value: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """The dotted path of every string (or object key) in a decoded JSON value that cannot be
    stored."""
    if isinstance(value, str):
        if unstorable(value):
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if unstorable(key):
                yield ".".join((*path, shown(key)))
            yield from unstorable_fields(item, (*path, shown(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_fields(item, (*path, str(index)))


def is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


class RefuseUnstorableText:
    """422 for a path, query parameter or JSON body field holding NUL or a lone surrogate."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields = ["path"] if unstorable(scope.get("path", "")) else []
        query = scope.get("query_string", b"").decode("latin-1")
        fields += [
            shown(name)
            for name, value in parse_qsl(query, keep_blank_values=True)
            if unstorable(name) or unstorable(value)
        ]
        if not fields and is_json(scope):
            try:
                body, receive = await self.read_body(receive)
            except ProblemError as exc:  # the body cap, counting as this reads
                await problem_response(
                    status=exc.status,
                    code=exc.code,
                    title=exc.title,
                    detail=exc.detail,
                    instance=instance_of(scope),
                )(scope, receive, send)
                return
            if body is not None and SUSPECT_JSON.search(body):
                fields = self.body_fields(body)
        if not fields:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            status=422,
            code=InvalidInput.code,
            title=InvalidInput.title,
            detail="Fields at fault: " + ", ".join(sorted(set(fields))),
            instance=instance_of(scope),
            errors=[FieldProblem(field=name, message=MESSAGE) for name in fields],
        )
        await response(scope, receive, send)

    async def read_body(self, receive: Receive) -> tuple[bytes | None, Receive]:
        """The whole body if it is at most max_body_bytes (else None), and a receive that
        hands the app every message read here, then the rest."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body_bytes or not message.get("more_body", False):
                break
        last = messages[-1]
        complete = last["type"] == "http.request" and not last.get("more_body", False)
        complete = complete and size <= self.max_body_bytes
        body = b"".join(m.get("body", b"") for m in messages) if complete else None

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return body, replay

    @staticmethod
    def body_fields(body: bytes) -> list[str]:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return []  # not JSON at all: the route's own parsing says so
        return list(unstorable_fields(document))
