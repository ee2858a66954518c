"""A small TCP proxy of the fault tests' own, put between the services and PostgreSQL or Redis.

It runs its own event loop on a thread of its own, so it keeps moving bytes while the test's
loop is blocked (starting a stack is synchronous) and the services never notice it is there
until a fault is switched on:

- `latency_seconds`: every chunk, each way, is delivered that much later (throughput is kept:
  chunks queue up rather than waiting for each other);
- `bytes_per_second`: each direction of each connection is held to that rate;
- `reset_probability`: each chunk has that chance of resetting its connection (a TCP RST to
  both ends), as a flaky network or a restarted load balancer does;
- `cut()`: every open connection is reset and the port refuses new ones, as a server that was
  stopped immediately does; `restore()` listens again on the same port.

Only the tests use it: toxiproxy would do the same over HTTP, at the price of a binary to
install.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65_536


@dataclass
class ProxyCounts:
    connections: int = 0
    resets: int = 0
    refused_while_cut: int = 0


class FaultProxy:
    """127.0.0.1:<port> forwarding to `upstream_host:upstream_port`, with faults on demand."""

    def __init__(self, upstream_host: str, upstream_port: int, *, seed: int = 7) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.latency_seconds = 0.0
        self.bytes_per_second: float | None = None
        self.reset_probability = 0.0
        self.counts = ProxyCounts()
        self.port = 0
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    # -- lifecycle (called from the test's thread)

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def url_for(self, url: str) -> str:
        """`url` (postgresql://, redis://) with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    # -- faults (called from the test's thread)

    def calm(self) -> None:
        """No latency, no rate limit, no resets."""
        self.latency_seconds = 0.0
        self.bytes_per_second = None
        self.reset_probability = 0.0

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until `restore()`."""
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def reset_all(self) -> None:
        """Reset every open connection; new ones are accepted as before."""
        self._call(self._reset_open())

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        self.cut()
        try:
            yield
        finally:
            self.restore()

    def _call(self, coroutine: object) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        future.result(timeout=10)

    # -- on the proxy's loop

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            # Not wait_closed(): it waits for the connections we are about to reset.
            self._server = None
        await self._reset_open()

    async def _reset_open(self) -> None:
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    async def _shutdown(self) -> None:
        await self._cut()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self._server is None:
            self.counts.refused_while_cut += 1
            _reset(client)
            return
        self.counts.connections += 1
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.upstream)
        except OSError:
            _reset(client)
            return
        pair = {client, upstream}
        self._open |= pair
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream, pair),
                self._pipe(upstream_reader, client, pair),
            )
        finally:
            for writer in pair:
                self._open.discard(writer)
                if not writer.is_closing():
                    writer.close()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: set[asyncio.StreamWriter],
    ) -> None:
        """Copy one direction; chunks wait out the latency in a queue, so they overlap."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    with contextlib.suppress(OSError, RuntimeError):
                        writer.write_eof()
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.reset_probability and self._random.random() < self.reset_probability:
                    self.counts.resets += 1
                    for end in pair:
                        _reset(end)
                    return
                writer.write(data)
                await writer.drain()
                rate = self.bytes_per_second
                if rate:
                    await asyncio.sleep(len(data) / rate)

        delivering = asyncio.create_task(deliver())
        try:
            while not delivering.done():
                data = await reader.read(CHUNK)
                queue.put_nowait((time.monotonic() + self.latency_seconds, data))
                if not data:
                    break
            await delivering
        except (OSError, asyncio.IncompleteReadError):
            for end in pair:
                _reset(end)
        finally:
            delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, RuntimeError):
                await delivering


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a dead peer or a dropped link shows."""
    sock: socket.socket | None = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
