"""A client that reads while it sends, as RFC 9112 (section 9.6) asks of one sending a body:
it stops sending as soon as an answer comes. httpx (like most libraries) reads nothing until it
has sent its whole body, so it cannot tell a refusal on the headers from one after the upload;
this client, on a plain socket, can. Used by the S4 test and figure."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

ANSWER_WITHIN_SECONDS = 30


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class EarlyAnswer:
    # None if the connection ended (reset) before a whole answer could be read.
    answer: Answer | None
    # Bytes of the body sent before the answer came (or the server stopped taking them).
    sent: int
    # From the first byte sent to the whole answer (or the connection's end).
    seconds: float
    # Whether the server closed (or reset) the connection.
    closed: bool


def chunked(chunk: bytes) -> bytes:
    return f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"


async def read_answer(reader: asyncio.StreamReader) -> Answer | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    except (ConnectionError, asyncio.IncompleteReadError):
        return None
    return Answer(status=int(status_line.split()[1]), headers=headers, body=body)


async def post_watching(
    host: str,
    port: int,
    path: str,
    chunks: Iterable[bytes],
    *,
    declared: int | None,
    headers: dict[str, str] | None = None,
) -> EarlyAnswer:
    """POST `chunks` (with Content-Length `declared`, or chunked if None), stopping as soon as
    an answer comes or the connection ends; the answer, and what was sent."""
    reader, writer = await asyncio.open_connection(host, port)
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(
        f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
    )
    started = time.perf_counter()
    answered = asyncio.create_task(read_answer(reader))
    sent = 0
    with contextlib.suppress(ConnectionError):
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        for chunk in chunks:
            if answered.done():
                break
            writer.write(chunked(chunk) if declared is None else chunk)
            await writer.drain()
            sent += len(chunk)
            await asyncio.sleep(0)  # let the answer in, if it came
    answer = await asyncio.wait_for(answered, ANSWER_WITHIN_SECONDS)
    seconds = time.perf_counter() - started
    try:
        closed = await asyncio.wait_for(reader.read(1), 1) == b""
    except ConnectionError:
        closed = True
    except TimeoutError:
        closed = False  # still open a second later
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return EarlyAnswer(answer=answer, sent=sent, seconds=seconds, closed=closed)
