"""What an evidence snapshot is, judged by its first bytes rather than by its name or label.

Only four kinds of snapshot are accepted: PNG and JPEG screenshots, PDF prints and saved HTML
pages. Each is recognised by its signature; HTML, which has none, by the patterns of the WHATWG
MIME Sniffing standard (section 7.1, "identifying a resource with an unknown MIME type"). A
small table rather than a library: a library would recognise hundreds of types only to refuse
them, and none recognises HTML better than the standard's own patterns.

Archives and compressed files (zip, gzip, 7z...) match none of the four and are refused, so a
zip bomb never gets in; the server never unpacks, decodes or renders what it stores either.
"""

from __future__ import annotations

from typing import Final, Literal

SnapshotMediaType = Literal["image/png", "image/jpeg", "application/pdf", "text/html"]
ACCEPTED_MEDIA_TYPES: Final[tuple[SnapshotMediaType, ...]] = (
    "image/png",
    "image/jpeg",
    "application/pdf",
    "text/html",
)

# How many leading bytes the sniffer looks at (the WHATWG "resource header" length).
SNIFF_BYTES: Final = 1445

_SIGNATURES: Final[tuple[tuple[bytes, SnapshotMediaType], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF-", "application/pdf"),
)

# Upper case; compared against the upper-cased header. Each must be followed by a space or '>'.
_HTML_PATTERNS: Final = (
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
    b"<!--",
)
_HTML_WHITESPACE: Final = b"\t\n\x0c\r "
_TAG_TERMINATORS: Final = (b" ", b">")

# Recognised only to say plainly why they are refused.
_REFUSED_KINDS: Final = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "a zip archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
)


def sniff_media_type(header: bytes) -> SnapshotMediaType | None:
    """The accepted type these leading bytes begin, or None if they begin none of them."""
    for signature, media_type in _SIGNATURES:
        if header.startswith(signature):
            return media_type
    text = header.removeprefix(b"\xef\xbb\xbf").lstrip(_HTML_WHITESPACE).upper()
    for pattern in _HTML_PATTERNS:
        if text.startswith(pattern) and text[len(pattern) : len(pattern) + 1] in _TAG_TERMINATORS:
            return "text/html"
    return None


def describe_refused(header: bytes) -> str:
    """A few words on what refused content appears to be, for the problem's detail."""
    for signature, kind in _REFUSED_KINDS:
        if header.startswith(signature):
            return kind
    return "content of no accepted type"


def declared_media_type(content_type: str | None) -> str:
    """'text/html; charset=utf-8' -> 'text/html'."""
    return (content_type or "").split(";", 1)[0].strip().lower()
