"""Stored pages as they were served: the raw bytes behind a version or a fetch event, with
what is needed to read them again as a crawl did (content type, URL, fetch time, site).
`newsmon raw` writes them out; `newsmon fixture add` turns one into a parser test case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import read_engine
from storage.models import Article, FetchEvent, RawPage, Site
from storage.query.errors import QueryError
from storage.query.lookup import get_version
from storage.rawpages import decompress


def _page(archive, sha: str | None, what: str) -> tuple[bytes, str | None]:
    if sha is None:
        raise QueryError(f"{what} kept no raw page")
    engine = getattr(archive, "engine", archive)
    with Session(read_engine(engine)) as s:
        codec = getattr(archive, "page_codec", None)
        if codec is not None:
            s.info["page_codec"] = codec
        page = s.get(RawPage, sha)
        if page is None:
            raise QueryError(f"{what}: raw page {sha} is missing from the archive")
        try:
            return decompress(s, page), page.content_type
        except Exception as exc:  # zstandard.ZstdError, a missing dictionary: unreadable
            raise QueryError(f"{what}: raw page {sha} cannot be read ({exc})") from None


def version_page(archive, ref: str | int, version: int | None = None) -> dict[str, Any]:
    """The stored page of an article's version (default: the current one): data (the bytes
    as served), content_type, url (the archived URL), fetched_at, site, article_id, id,
    version, raw_page_sha. QueryError when there is none or it cannot be read."""
    record = get_version(archive, ref, version)
    what = f"article {record['article_id']} version {record['version']}"
    data, content_type = _page(archive, record["raw_page_sha"], what)
    return {"data": data, "content_type": content_type, "url": record["url"],
            "fetched_at": record["fetched_at"], "site": record["site"],
            "article_id": record["article_id"], "id": record["id"],
            "version": record["version"], "raw_page_sha": record["raw_page_sha"]}


def event_page(archive, event_id: int) -> dict[str, Any]:
    """The stored page of fetch event `event_id` (a suspect or unparseable fetch, or one that
    made a version), as version_page gives it (version: the version it made or was accepted
    as, if any)."""
    engine = getattr(archive, "engine", archive)
    with Session(read_engine(engine)) as s:
        row = s.execute(
            select(FetchEvent, Article.article_id, Site.name)
            .outerjoin(Article, Article.id == FetchEvent.article_id)
            .outerjoin(Site, Site.id == Article.site_id)
            .where(FetchEvent.id == int(event_id))).first()
        if row is None:
            raise QueryError(f"no fetch event {event_id} in the archive")
        event, article_id, site = row
        # (An unchanged or 304 fetch kept no page: its bytes are not the version's.)
        sha = event.raw_page_sha
    data, content_type = _page(archive, sha, f"fetch event {event_id}")
    return {"data": data, "content_type": content_type, "url": event.url,
            "fetched_at": event.fetched_at, "site": site, "article_id": article_id,
            "id": event.article_id, "version": event.version, "raw_page_sha": sha}
