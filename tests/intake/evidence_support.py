"""Snapshot bytes of each accepted kind, and an intake app whose evidence store is a test's own."""

from __future__ import annotations

import io
import os
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

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
