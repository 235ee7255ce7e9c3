"""Re-parse jobs and what they read: the `reparse_jobs` rows that make a re-parse resumable,
the stored pages handed to the parser (still compressed: decompressing is the workers' job,
see `page_bytes`), and the transactions the writes run in.

A job row holds the options it was started with and a cursor: the last article id whose
writes are committed (versions, or with --suspects held fetches, are taken article by
article). The cursor moves in the same
transaction as those writes, so a job killed at any moment resumes exactly after the last
committed batch; and since correcting an article again with the same parser changes nothing,
even a lost cursor would only cost time.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from storage.compression import DICT_CONTENT_TYPE, PageCodec
from storage.models import (
    Article,
    ArticleVersion,
    CrawlRun,
    FetchEvent,
    RawPage,
    ReparseJob,
    Site,
)
from storage.query.connection import reading
from storage.reparse import HELD
from storage.types import utcnow

T = TypeVar("T")
LEASE = "reparse"  # one re-parse at a time (the crawl lease is not taken: see storage/reparse.py)
UNFINISHED = ("running", "interrupted")


# -- jobs -------------------------------------------------------------------------------------


def _job_dict(job: ReparseJob) -> dict[str, Any]:
    return {c.key: getattr(job, c.key) for c in ReparseJob.__table__.columns}


def open_job(archive, options: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The job to run for `options`: the newest unfinished one with the same options
    (resumed: True), else a new one; unfinished jobs with other options are abandoned (their
    work is committed, their cursor no longer meant)."""
    def work(s: Session):
        rows = s.scalars(select(ReparseJob).where(ReparseJob.status.in_(UNFINISHED))
                         .order_by(ReparseJob.id.desc()).with_for_update()).all()
        resumed = None
        for job in rows:
            if resumed is None and job.options == options:
                resumed = job
            else:
                job.status, job.finished_at = "abandoned", utcnow()
                job.note = "another re-parse with other options started"
        job = resumed or ReparseJob(options=options, started_at=utcnow(), cursor=0, counts={})
        job.status, job.pid, job.host = "running", os.getpid(), socket.gethostname()
        job.heartbeat_at = utcnow()
        if resumed is None:
            s.add(job)
        s.flush()
        return _job_dict(job), resumed is not None
    return archive._write(work)


def advance_job(s: Session, job_id: int, cursor: int, counts: dict[str, Any]) -> None:
    """Move the job's cursor past a batch, in the batch's transaction."""
    s.execute(update(ReparseJob).where(ReparseJob.id == job_id)
              .values(cursor=cursor, counts=counts, heartbeat_at=utcnow()))


def finish_job(archive, job_id: int, status: str, counts: dict[str, Any],
               note: str | None = None) -> None:
    archive._write(lambda s: s.execute(
        update(ReparseJob).where(ReparseJob.id == job_id)
        .values(status=status, counts=counts, note=note, finished_at=utcnow(),
                heartbeat_at=utcnow())))


def list_jobs(archive, limit: int = 20) -> list[dict[str, Any]]:
    with reading(archive) as conn:
        rows = conn.execute(select(ReparseJob.__table__).order_by(ReparseJob.id.desc())
                            .limit(limit)).all()
    return [dict(r._mapping) for r in rows]


# -- transactions -----------------------------------------------------------------------------


def write(archive, work: Callable[[Session], T], *, dry_run: bool = False) -> T:
    """Run `work` in one write transaction: committed (retried from the start when a
    concurrent writer won a race), or with `dry_run` always rolled back, so a dry run
    computes exactly what a real run would write and leaves nothing."""
    if not dry_run:
        return archive._write(work)
    session = archive._writer()
    try:
        session.begin()
        return work(session)
    finally:
        session.rollback()
        session.close()


# -- what is read -----------------------------------------------------------------------------

_PAGE_COLUMNS = (RawPage.data, RawPage.compression, RawPage.size, RawPage.content_type)


def next_articles(archive, after: int, limit: int, *, site: str | None = None,
                  article: int | None = None, since: datetime | None = None) -> list[int]:
    """Up to `limit` archive ids of articles after `after` with versions to re-parse (of
    `site`, only `article`, with a version fetched at or after `since`)."""
    query = select(Article.id).where(Article.id > after, Article.current_version > 0)
    if site is not None:
        query = query.join(Site, Site.id == Article.site_id).where(Site.name == site)
    if article is not None:
        query = query.where(Article.id == article)
    if since is not None:
        query = query.where(exists().where(ArticleVersion.article_id == Article.id,
                                           ArticleVersion.fetched_at >= since))
    with reading(archive) as conn:
        return list(conn.scalars(query.order_by(Article.id).limit(limit)))


def version_pages(archive, article_ids: list[int], *,
                  since: datetime | None = None) -> list[dict[str, Any]]:
    """The versions of these articles (fetched at or after `since`), by article and version,
    each with its stored page as stored (data compressed, None when the page is missing)
    and the fetch base its crawl talked to (`base_url`, when known)."""
    if not article_ids:
        return []
    query = (
        select(ArticleVersion.id.label("key"), ArticleVersion.article_id, ArticleVersion.version,
               ArticleVersion.fetched_at, ArticleVersion.url, ArticleVersion.raw_page_sha,
               Article.article_id.label("site_article_id"), Site.name.label("site"),
               *_PAGE_COLUMNS)
        .join(Article, Article.id == ArticleVersion.article_id)
        .join(Site, Site.id == Article.site_id)
        .outerjoin(RawPage, RawPage.sha256 == ArticleVersion.raw_page_sha)
        .where(ArticleVersion.article_id.in_(article_ids))
        .order_by(ArticleVersion.article_id, ArticleVersion.version)
    )
    if since is not None:
        query = query.where(ArticleVersion.fetched_at >= since)
    with reading(archive) as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        bases = _fetch_bases(conn, article_ids)
    for row in rows:
        row["base_url"] = bases.get((row["article_id"], row["raw_page_sha"]))
    return rows


def _fetch_bases(conn, article_ids: list[int]) -> dict[tuple[int, str], str]:
    """(article, raw page) -> the fetch base of the run that fetched that page: the parser
    read the page at that host (relative links resolve there), so a re-parse does too."""
    query = (select(FetchEvent.article_id, FetchEvent.raw_page_sha, CrawlRun.options)
             .join(CrawlRun, CrawlRun.id == FetchEvent.run_id)
             .where(FetchEvent.article_id.in_(article_ids),
                    FetchEvent.raw_page_sha.is_not(None)))
    bases: dict[tuple[int, str], str] = {}
    for article_id, sha, options in conn.execute(query):
        base = (options or {}).get("base_url")
        if base:
            bases.setdefault((article_id, sha), base)
    return bases


def _held(query, site: str | None, article: int | None, since: datetime | None):
    query = query.where(FetchEvent.outcome.in_(HELD), FetchEvent.version.is_(None))
    if site is not None:
        query = query.join(Site, Site.id == Article.site_id).where(Site.name == site)
    if article is not None:
        query = query.where(FetchEvent.article_id == article)
    if since is not None:
        query = query.where(FetchEvent.fetched_at >= since)
    return query


def held_articles(archive, after: int, limit: int, *, site: str | None = None,
                  article: int | None = None, since: datetime | None = None) -> list[int]:
    """Up to `limit` archive ids of articles after `after` with fetches still held back
    (suspect or parse failure, not accepted)."""
    query = _held(select(Article.id).join(FetchEvent, FetchEvent.article_id == Article.id)
                  .where(Article.id > after), site, article, since)
    with reading(archive) as conn:
        return list(conn.scalars(query.distinct().order_by(Article.id).limit(limit)))


def held_pages(archive, article_ids: list[int], *,
               since: datetime | None = None) -> list[dict[str, Any]]:
    """The held fetches of these articles, by article in fetch order, with their pages as
    stored and the fetch base of their run."""
    if not article_ids:
        return []
    query = _held(
        select(FetchEvent.id.label("key"), FetchEvent.article_id, FetchEvent.fetched_at,
               FetchEvent.url, FetchEvent.raw_page_sha, FetchEvent.outcome,
               Article.article_id.label("site_article_id"),
               select(Site.name).where(Site.id == Article.site_id).scalar_subquery()
               .label("site"), CrawlRun.options, *_PAGE_COLUMNS)
        .join(Article, Article.id == FetchEvent.article_id)
        .outerjoin(CrawlRun, CrawlRun.id == FetchEvent.run_id)
        .outerjoin(RawPage, RawPage.sha256 == FetchEvent.raw_page_sha)
        .where(FetchEvent.article_id.in_(article_ids)), None, None, since)
    with reading(archive) as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            query.order_by(FetchEvent.article_id, FetchEvent.fetched_at, FetchEvent.id))]
    for row in rows:
        row["base_url"] = (row.pop("options") or {}).get("base_url")
    return rows


def dictionaries(archive) -> dict[str, bytes]:
    """Every compression dictionary of the archive (sha256 -> its bytes): a worker process
    given these decompresses pages without a database connection."""
    with reading(archive) as conn:
        rows = conn.execute(select(RawPage.sha256, RawPage.data, RawPage.compression,
                                   RawPage.size)
                            .where(RawPage.content_type == DICT_CONTENT_TYPE)).all()
    codec = PageCodec()
    return {row.sha256: codec.decompress(None, row) for row in rows}


class PageBytes:
    """Decompresses stored pages outside any session (in a worker process), checking each
    against its sha256."""

    def __init__(self, dicts: dict[str, bytes]):
        self.codec = PageCodec()
        for sha, data in dicts.items():
            self.codec._register(sha, data)

    def __call__(self, page: dict[str, Any]) -> bytes:
        """The page's original bytes; ValueError when it is missing or corrupt."""
        if page.get("data") is None:
            raise ValueError(f"raw page {page.get('raw_page_sha') or '(none)'} is missing")
        row = _Stored(page["data"], page["compression"], page["size"])
        try:
            data = self.codec.decompress(None, row)
        except Exception as exc:  # zstandard.ZstdError and friends: a corrupt page
            raise ValueError(f"raw page {page['raw_page_sha']} cannot be read: {exc}") from None
        if hashlib.sha256(data).hexdigest() != page["raw_page_sha"]:
            raise ValueError(f"raw page {page['raw_page_sha']} does not match its hash")
        return data


class _Stored:
    __slots__ = ("compression", "data", "size")

    def __init__(self, data: bytes, compression: str, size: int):
        self.data, self.compression, self.size = data, compression, size
