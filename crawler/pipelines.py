"""Writes each fetch outcome to the archive: one short transaction per item, run in a worker
thread so that the reactor keeps downloading while SQLite or PostgreSQL commits."""

from __future__ import annotations

import asyncio
import logging

from crawler.config import section
from crawler.items import ArticleFetched, ArticleGone, ArticleNotModified, FetchFailed

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.max_body_shrink = float(section("health").get("max_body_shrink", 0.5))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        ctx = getattr(self.crawler.spider, "run_context", None)
        if ctx is None or ctx.skipped:
            return item
        try:
            await asyncio.to_thread(self._write, ctx, item)
        except Exception:
            ctx.write_failures += 1
            logger.exception("could not write %s to the archive", _describe(item))
        return item

    def _write(self, ctx, item) -> None:
        archive, run_id = ctx.archive, ctx.run_id
        if isinstance(item, ArticleFetched):
            if item.record is None:
                archive.record_parse_failure(run_id, item.site, item.article_id, item.url,
                                             item.raw, item.parse_error or "no record")
                return
            ctx.note_parsed(item.record)
            outcome = archive.record_fetch(
                run_id, item.site, item.article_id, item.url, item.record, item.raw,
                status=item.status, etag=item.etag, last_modified=item.last_modified,
                content_type=item.content_type, max_body_shrink=self.max_body_shrink,
                suspect_reason=item.suspect_reason, note=item.note,
            )
            logger.debug("%s %s -> %s %s", item.article_id, item.url, outcome.kind,
                         outcome.changed_fields or "")
        elif isinstance(item, ArticleNotModified):
            archive.record_not_modified(run_id, item.site, item.article_id, item.url)
        elif isinstance(item, ArticleGone):
            archive.record_gone(run_id, item.site, item.article_id, item.url, item.status)
        elif isinstance(item, FetchFailed):
            archive.record_error(run_id, item.url, item.kind, item.message, site=item.site,
                                 article_id=item.article_id, status=item.status)


def _describe(item) -> str:
    return f"{type(item).__name__}({getattr(item, 'url', '?')})"
