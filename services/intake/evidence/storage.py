"""Where evidence snapshot bytes live: one interface, a filesystem implementation by default
and an S3-compatible one (s3_storage.py) chosen by INTAKE_EVIDENCE_STORE=s3.

The store is content-addressed: a snapshot is kept under its SHA-256, so the same bytes
uploaded twice are kept once and a name can never point at other bytes. An upload is written to
a staging area while it streams in and is published under its hash only once it has been
checked in full (type, size); a refused or interrupted upload leaves nothing behind.

Reads are checked against the hash as they stream: the last chunk is held back until the whole
content has hashed to the name, so a snapshot altered in the store is never handed over whole
(the response is cut short, which every HTTP client notices, and the operator is told).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

import structlog

from services.intake.settings import IntakeSettings

logger = structlog.get_logger(__name__)

READ_CHUNK_BYTES = 64 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class StagedSnapshot(Protocol):
    """An upload on its way into the store: invisible until published."""

    async def write(self, chunk: bytes) -> None: ...

    async def publish(self, sha256: str) -> None:
        """Make the staged bytes readable under their hash (a no-op if already there)."""
        ...


class EvidenceStorage(Protocol):
    def stage(self) -> AbstractAsyncContextManager[StagedSnapshot]:
        """A staged snapshot; whatever was not published is removed when the block exits."""
        ...

    async def holds(self, sha256: str) -> bool: ...

    def read(self, sha256: str) -> AsyncIterator[bytes]:
        """The snapshot's bytes in chunks, checked against the hash (see `verified`)."""
        ...


class EvidenceContentAltered(Exception):
    """The store's bytes for a snapshot no longer hash to its name. Raised while the response
    streams, so no problem document can follow: the server ends the response short. Not an
    OSError on purpose: this is no outage to retry but evidence to investigate."""


async def verified(chunks: AsyncIterable[bytes], sha256: str) -> AsyncIterator[bytes]:
    """The chunks, each passed on only once the next has arrived: the last is passed on only if
    the whole content hashes to `sha256`, else EvidenceContentAltered is raised in its place."""
    digest = hashlib.sha256()
    held: bytes | None = None
    async for chunk in chunks:
        digest.update(chunk)
        if held is not None:
            yield held
        held = chunk
    if digest.hexdigest() != sha256:
        logger.error("evidence content altered in the store", sha256=sha256)
        raise EvidenceContentAltered(f"the stored bytes of {sha256} hash to something else")
    if held is not None:
        yield held


def checked_sha256(sha256: str) -> str:
    """The hash, refused unless it is 64 lower-case hex digits: it becomes a path or an object
    key, so it can never hold '..' or '/'."""
    if not _SHA256_HEX.fullmatch(sha256):
        raise ValueError("not a SHA-256 in hex")
    return sha256


class _FileStaging:
    def __init__(self, storage: FilesystemEvidenceStorage) -> None:
        self._storage = storage
        self._path = storage.root / "staging" / f"{uuid.uuid4().hex}.part"
        self._file: BinaryIO | None = None
        self._published = False

    async def __aenter__(self) -> _FileStaging:
        self._file = await asyncio.to_thread(self._open)
        return self

    def _open(self) -> BinaryIO:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        return self._path.open("xb")

    async def write(self, chunk: bytes) -> None:
        assert self._file is not None
        await asyncio.to_thread(self._file.write, chunk)

    async def publish(self, sha256: str) -> None:
        target = self._storage.path_of(sha256)
        await asyncio.to_thread(self._publish, target)
        self._published = True

    def _publish(self, target: Path) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same name, same bytes: a second copy of a snapshot replaces the first harmlessly.
        os.replace(self._path, target)

    async def __aexit__(self, *exc_info: object) -> None:
        if not self._published:
            await asyncio.to_thread(self._discard)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
        self._path.unlink(missing_ok=True)


class FilesystemEvidenceStorage:
    """Snapshots as files under one directory: `<root>/<first two hex digits>/<sha256>`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        digest = checked_sha256(sha256)
        return self.root / digest[:2] / digest

    def stage(self) -> _FileStaging:
        return _FileStaging(self)

    async def holds(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path_of(sha256).is_file)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        async for chunk in verified(self._chunks(sha256), sha256):
            yield chunk

    async def _chunks(self, sha256: str) -> AsyncIterator[bytes]:
        async with self._opened(sha256) as file:
            while chunk := await asyncio.to_thread(file.read, READ_CHUNK_BYTES):
                yield chunk

    @asynccontextmanager
    async def _opened(self, sha256: str) -> AsyncIterator[BinaryIO]:
        file = await asyncio.to_thread(self.path_of(sha256).open, "rb")
        try:
            yield file
        finally:
            await asyncio.to_thread(file.close)


def evidence_storage(settings: IntakeSettings) -> EvidenceStorage:
    """The configured store (a dependency: routes reach it through `Storage`)."""
    if settings.evidence_store == "s3":
        # Imported only when chosen: a filesystem deployment never loads boto3.
        from services.intake.evidence.s3_storage import S3EvidenceStorage

        return S3EvidenceStorage.from_settings(settings)
    return FilesystemEvidenceStorage(Path(settings.evidence_directory))
