"""What the spider hands to the pipeline: one item per article fetch outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArticleFetched:
    """A 200 answer for an article URL, parsed (record) or not (parse_error)."""

    site: str
    article_id: str
    url: str
    raw: bytes
    record: dict[str, Any] | None
    parse_error: str | None = None
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    # Decoding trouble or an interstitial noticed before parsing: held as suspect.
    suspect_reason: str | None = None
    # Kept with the fetch event, e.g. why the page's canonical link is not the archived URL.
    note: str | None = None
    # The archive had no such article when the crawl scheduled it (the writer then inserts
    # first, and looks the row up only if another writer made it since).
    new: bool = False


@dataclass
class ArticleNotModified:
    site: str
    article_id: str
    url: str


@dataclass
class ArticleGone:
    site: str
    article_id: str
    url: str
    status: int


@dataclass
class FetchFailed:
    url: str
    kind: str  # e.g. http_503, timeout, connection, robots, offsite, dns, oversize
    message: str
    site: str | None = None
    article_id: str | None = None
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
