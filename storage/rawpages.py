"""Raw pages: the fetched bytes behind versions and held-back fetches, stored once by sha256
and compressed by the archive's PageCodec (storage/compression.py), which the Archive hands
to its sessions in `Session.info["page_codec"]`."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from storage.compression import PageCodec
from storage.models import RawPage
from storage.rows import insert_ignore
from storage.types import utcnow


def store_raw(s: Session, raw: bytes | None, content_type: str | None) -> str | None:
    """Store bytes once by sha256; returns the key (None for no bytes)."""
    if raw is None:
        return None
    sha = hashlib.sha256(raw).hexdigest()
    # No look-up first: pages are stored for new versions and held-back fetches, whose bytes
    # are almost never stored already; the insert ignores the rare repeat.
    data, compression = codec(s).compress(s, raw)
    insert_ignore(
        s,
        RawPage,
        {
            "sha256": sha,
            "data": data,
            "size": len(raw),
            "compression": compression,
            "content_type": content_type,
            "encoding": _charset(content_type),
            "stored_at": utcnow(),
        },
        ["sha256"],
    )
    return sha


def get_raw(s: Session, sha256: str) -> bytes | None:
    """The original bytes of a stored raw page, or None."""
    page = s.get(RawPage, sha256)
    return decompress(s, page) if page else None


def decompress(s: Session, page: RawPage) -> bytes:
    """A page's original bytes; ValueError (or zstandard.ZstdError) when they cannot be had."""
    return codec(s).decompress(s, page)


def codec(s: Session) -> PageCodec:
    found = s.info.get("page_codec")
    if found is None:  # a session not made by an Archive
        found = s.info["page_codec"] = PageCodec()
    return found


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'").lower()
    return None
