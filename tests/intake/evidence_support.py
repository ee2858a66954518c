"""Snapshot bytes of each accepted kind, and evidence stores of a test's own: a directory, or a
bucket on a real S3-compatible server."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import bearer, create_client, unique_code
from tests.support import count_rows

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2000)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"%" + os.urandom(2000).hex().encode()
HTML = (
    b"\xef\xbb\xbf\n  <!DOCTYPE html><html><head><title>Post</title></head>"
    b"<body><p>Captured post</p></body></html>"
)


@cache
def zip_bomb() -> bytes:
    """A small zip that would unpack to 20 MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("screenshot.png", b"\x00" * 20_000_000)
    return buffer.getvalue()


def stored_files(root: Path) -> list[Path]:
    """Every file the evidence store holds, staged or published."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def evidence_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    return {
        table: await count_rows(sessionmaker, table)
        for table in ("intake.evidence_file", "intake.custody_line")
    }


async def upload(
    api: httpx.AsyncClient,
    token: str,
    content: Any,
    media_type: str,
    **headers: str,
) -> httpx.Response:
    return await api.post(
        "/v1/evidence-files",
        content=content,
        headers={**bearer(token), "Content-Type": media_type, **headers},
    )


async def department_token(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    department = unique_code("DEPT")
    return department, await create_client(sessionmaker, organisation_code=department)


@dataclass
class EvidenceStore:
    """One evidence store a test's intake app writes to, and what a test sees of it: a fresh
    directory, or a fresh bucket on a real S3-compatible server (moto's, over HTTP)."""

    kind: str
    settings: dict[str, Any]
    root: Path | None = None
    client: Any = None
    bucket: str = ""
    prefix: str = ""

    def names(self) -> list[str]:
        """Every file or object the store holds, staged or published, and every multipart
        upload left open (a staged part is something kept too)."""
        if self.root is not None:
            return [path.name for path in stored_files(self.root)]
        listed = self.client.list_objects_v2(Bucket=self.bucket)
        uploads = self.client.list_multipart_uploads(Bucket=self.bucket)
        return [item["Key"].rsplit("/", 1)[-1] for item in listed.get("Contents", [])] + [
            f"open upload {upload['Key']}" for upload in uploads.get("Uploads", [])
        ]

    def replace(self, sha256: str, content: bytes | None) -> None:
        """Change what the store holds for a snapshot behind intake's back (None: lose it)."""
        if self.root is not None:
            path = self.root / sha256[:2] / sha256
            if content is None:
                path.unlink()
            else:
                path.write_bytes(content)
            return
        key = f"{self.prefix}{sha256[:2]}/{sha256}"
        if content is None:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        else:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=content)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server, in a process of its own on a free port; its endpoint URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


S3_KEYS = {"evidence_s3_access_key_id": "conduct-test", "evidence_s3_secret_access_key": "secret"}


def s3_store(endpoint: str, **overrides: Any) -> EvidenceStore:
    """A fresh bucket on the server at `endpoint`, and the settings that point intake at it."""
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["evidence_s3_access_key_id"],
        aws_secret_access_key=S3_KEYS["evidence_s3_secret_access_key"],
    )
    client.create_bucket(Bucket=bucket)
    settings = {
        "evidence_store": "s3",
        "evidence_s3_endpoint_url": endpoint,
        "evidence_s3_bucket": bucket,
        "evidence_s3_prefix": "snapshots/",
        **S3_KEYS,
        **overrides,
    }
    return EvidenceStore(
        kind="s3", settings=settings, client=client, bucket=bucket, prefix="snapshots/"
    )


def filesystem_store(root: Path) -> EvidenceStore:
    return EvidenceStore(kind="filesystem", settings={"evidence_directory": str(root)}, root=root)
