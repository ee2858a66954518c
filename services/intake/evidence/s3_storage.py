"""The S3-compatible evidence store (AWS S3, MinIO, Ceph RGW...): INTAKE_EVIDENCE_STORE=s3.

Content-addressed like the filesystem store: a snapshot is the object
`<prefix><first two hex digits>/<sha256>`. An upload streams in and is held only a part at a
time (INTAKE_EVIDENCE_S3_PART_BYTES, 5 MiB by default):

- a snapshot smaller than a part is one PUT to its hash's key once it has been checked in full,
  sent with its SHA-256 (`ChecksumSHA256`) so the store itself refuses bytes damaged on the way;
- a bigger one goes up as a multipart upload to `<prefix>staging/<random>` while it streams;
  once checked it is completed, copied inside the store to its hash's key, and the staging
  object removed. A refused or interrupted upload is aborted: nothing is left but, after a
  crash, an incomplete multipart upload or a staging object, which bucket lifecycle rules
  (AbortIncompleteMultipartUpload; expiry of `<prefix>staging/`) clear.

A snapshot already in the store is not sent again. Reads stream the object a chunk at a time and
are checked against the hash (storage.verified). boto3 is synchronous: each call runs in a
thread; one client per process and configuration, as boto3 clients are thread-safe and costly
to make. Every failure of the store (unreachable, refused, no such bucket) is an OSError to the
service, which answers 503 as for a full or unmounted disk.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.intake.evidence.storage import checked_sha256, verified
from services.intake.settings import IntakeSettings

logger = structlog.get_logger(__name__)

READ_CHUNK_BYTES = 256 * 1024
T = TypeVar("T")


class EvidenceStoreError(OSError):
    """The object store refused or could not be reached."""


@functools.lru_cache(maxsize=8)
def s3_client(
    *,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    connect_timeout: float,
    read_timeout: float,
) -> Any:
    """One boto3 client per process and configuration (clients are thread-safe)."""
    config = Config(
        signature_version="s3v4",
        # MinIO and most self-hosted stores want http://host/bucket/key; AWS prefers virtual
        # hosts and picks them itself.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


async def _call(function: Callable[..., T], /, **kwargs: Any) -> T:
    """A boto3 call in a thread, its failures made OSErrors."""
    try:
        return await asyncio.to_thread(function, **kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise EvidenceStoreError(f"the evidence bucket refused: {exc}") from exc


def _not_found(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}


class _S3Staging:
    def __init__(self, storage: S3EvidenceStorage) -> None:
        self._storage = storage
        self._buffer = bytearray()
        self._staging_key = f"{storage.prefix}staging/{uuid.uuid4().hex}"
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._published = False

    async def __aenter__(self) -> _S3Staging:
        return self

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        part_bytes = self._storage.part_bytes
        while len(self._buffer) >= part_bytes:
            await self._send_part(bytes(self._buffer[:part_bytes]))
            del self._buffer[:part_bytes]

    async def _send_part(self, part: bytes) -> None:
        storage = self._storage
        if self._upload_id is None:
            started = await _call(
                storage.client.create_multipart_upload,
                Bucket=storage.bucket,
                Key=self._staging_key,
            )
            self._upload_id = str(started["UploadId"])
        number = len(self._parts) + 1
        sent = await _call(
            storage.client.upload_part,
            Bucket=storage.bucket,
            Key=self._staging_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def publish(self, sha256: str) -> None:
        storage = self._storage
        key = storage.key_of(sha256)
        if await storage.holds(sha256):
            # Same name, same bytes: what is there already is this snapshot.
            await self._abandon()
        elif self._upload_id is None:
            await _call(
                storage.client.put_object,
                Bucket=storage.bucket,
                Key=key,
                Body=bytes(self._buffer),
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
            )
        else:
            if self._buffer:
                await self._send_part(bytes(self._buffer))
            await _call(
                storage.client.complete_multipart_upload,
                Bucket=storage.bucket,
                Key=self._staging_key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            self._upload_id = None
            try:
                await _call(
                    storage.client.copy_object,
                    Bucket=storage.bucket,
                    Key=key,
                    CopySource={"Bucket": storage.bucket, "Key": self._staging_key},
                )
            finally:
                await _call(
                    storage.client.delete_object, Bucket=storage.bucket, Key=self._staging_key
                )
        self._buffer.clear()
        self._published = True

    async def _abandon(self) -> None:
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            await _call(
                self._storage.client.abort_multipart_upload,
                Bucket=self._storage.bucket,
                Key=self._staging_key,
                UploadId=upload_id,
            )

    async def __aexit__(self, *exc_info: object) -> None:
        self._buffer.clear()
        if not self._published:
            try:
                await self._abandon()
            except EvidenceStoreError:
                # The reason the upload stopped (too large, wrong type...) is the caller's
                # answer; an upload left open is the bucket's lifecycle rule's to clear.
                logger.warning("evidence upload not aborted", staging_key=self._staging_key)


class S3EvidenceStorage:
    """Snapshots as objects in one bucket: `<prefix><first two hex digits>/<sha256>`."""

    def __init__(self, *, client: Any, bucket: str, prefix: str, part_bytes: int) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_bytes = part_bytes

    @classmethod
    def from_settings(cls, settings: IntakeSettings) -> S3EvidenceStorage:
        if settings.evidence_s3_bucket is None:  # pragma: no cover - refused by the settings
            raise ValueError("INTAKE_EVIDENCE_S3_BUCKET is not set")
        secret = settings.evidence_s3_secret_access_key
        return cls(
            client=s3_client(
                endpoint_url=settings.evidence_s3_endpoint_url,
                region=settings.evidence_s3_region,
                access_key_id=settings.evidence_s3_access_key_id,
                secret_access_key=secret.get_secret_value() if secret is not None else None,
                connect_timeout=settings.evidence_s3_connect_timeout_seconds,
                read_timeout=settings.evidence_s3_read_timeout_seconds,
            ),
            bucket=settings.evidence_s3_bucket,
            prefix=settings.evidence_s3_prefix,
            part_bytes=settings.evidence_s3_part_bytes,
        )

    def key_of(self, sha256: str) -> str:
        digest = checked_sha256(sha256)
        return f"{self.prefix}{digest[:2]}/{digest}"

    def stage(self) -> _S3Staging:
        return _S3Staging(self)

    async def holds(self, sha256: str) -> bool:
        try:
            await asyncio.to_thread(
                self.client.head_object, Bucket=self.bucket, Key=self.key_of(sha256)
            )
        except ClientError as exc:
            if _not_found(exc):
                return False
            raise EvidenceStoreError(f"the evidence bucket refused: {exc}") from exc
        except BotoCoreError as exc:
            raise EvidenceStoreError(f"the evidence bucket cannot be reached: {exc}") from exc
        return True

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        async for chunk in verified(self._chunks(sha256), sha256):
            yield chunk

    async def _chunks(self, sha256: str) -> AsyncIterator[bytes]:
        found = await _call(self.client.get_object, Bucket=self.bucket, Key=self.key_of(sha256))
        body = found["Body"]
        try:
            while chunk := await _call(body.read, amt=READ_CHUNK_BYTES):
                yield chunk
        finally:
            await asyncio.to_thread(body.close)
