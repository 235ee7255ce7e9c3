"""Writes each fetch outcome to the archive in a thread of its own, so that the reactor keeps
downloading while SQLite or PostgreSQL commits. Items that arrive while a write is under way
are written together next, up to BATCH_MAX in one transaction (Archive.write_batch: one commit
and session for all, each item still written in full as before; a batch that fails is written
item by item, so a bad item fails alone).

Items are written into the run the run extension opened (`newsmon/run_id` in the stats) and
only while it is open; a write that fails is counted (`newsmon/write_failures`), which fails
the run. NEWSMON_MAX_BODY_SHRINK is the share a body may shrink by (paywall unchanged) before
the fetch is held as suspect."""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor

from crawler.config import ConfigError, resolve_db_url
from crawler.items import ArticleFetched, ArticleGone, ArticleNotModified, FetchFailed
from crawler.run_status import (
    STAT_OUTCOME,
    STAT_RUN_ID,
    STAT_STATUS,
    STAT_WRITE_FAILURES,
    parse_share,
)
from storage import Archive, fetches

logger = logging.getLogger(__name__)

BATCH_MAX = 50  # items per write transaction


class ArchivePipeline:
    def __init__(self, crawler, max_body_shrink: float):
        self.crawler = crawler
        self.max_body_shrink = max_body_shrink
        self.archive: Archive | None = None
        self._queue: list[tuple[int, object, asyncio.Future]] = []
        self._writer: asyncio.Future | None = None  # the task writing the queue, if any
        # Batches are written one at a time, so one thread of our own writes them all: through
        # asyncio's shared pool they went to whichever of its threads was idle, two or more
        # in turn, each with its own malloc arena and zstd context (1% more CPU per article).
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-writer")

    @classmethod
    def from_crawler(cls, crawler):
        try:
            shrink = parse_share("NEWSMON_MAX_BODY_SHRINK",
                                 crawler.settings.get("NEWSMON_MAX_BODY_SHRINK"))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls(crawler, shrink)

    def _open_run(self) -> int | None:
        stats = self.crawler.stats
        if stats.get_value(STAT_STATUS) is not None:
            return None  # closed, or skipped before it began
        return stats.get_value(STAT_RUN_ID)

    async def process_item(self, item):
        run_id = self._open_run()
        if run_id is None:
            return item
        try:
            if self.archive is None:
                # The run extension opened (and upgraded) the archive when the run began.
                db_url, _ = resolve_db_url(self.crawler.settings.get("NEWSMON_DB"))
                self.archive = Archive.open(db_url, upgrade=False)
            done = asyncio.get_running_loop().create_future()
            self._queue.append((run_id, item, done))
            if self._writer is None or self._writer.done():
                self._writer = asyncio.ensure_future(self._drain())
            kind = await done
            # Counted here, on the reactor's thread.
            self.crawler.stats.inc_value(STAT_OUTCOME + kind)
        except Exception:
            self.crawler.stats.inc_value(STAT_WRITE_FAILURES)
            logger.exception("could not write %s to the archive", _describe(item))
        return item

    async def _drain(self) -> None:
        """Write the queue, a batch at a time, until it is empty."""
        while self._queue:
            batch, self._queue = self._queue[:BATCH_MAX], self._queue[BATCH_MAX:]
            try:
                results = await asyncio.get_running_loop().run_in_executor(
                    self._thread, self._write_batch, batch)
            except Exception as exc:  # noqa: BLE001 - every item of the batch failed
                results = [exc] * len(batch)
            for (_, _, done), result in zip(batch, results, strict=True):
                if done.done():  # its item was cancelled (shutdown)
                    continue
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)

    def _write_batch(self, batch) -> list:
        """Outcome kinds (or exceptions) of the batch's items, written in one transaction."""
        return self.archive.write_batch([functools.partial(self._write, run_id, item)
                                         for run_id, item, _ in batch])

    def close_spider(self) -> None:
        self._thread.shutdown()
        if self.archive is not None:
            self.archive.close()

    def _write(self, run_id: int, item, s) -> str:
        """Write one item in session `s`; returns its outcome (new_article, new_version,
        unchanged, suspect, parse_failure, not_modified, gone, error) for the progress
        display."""
        if isinstance(item, ArticleFetched):
            if item.record is None:
                fetches.record_parse_failure(s, run_id, item.site, item.article_id, item.url,
                                             item.raw, item.parse_error or "no record")
                return "parse_failure"
            outcome = fetches.record_fetch(
                s, run_id, item.site, item.article_id, item.url, item.record, item.raw,
                status=item.status, etag=item.etag, last_modified=item.last_modified,
                content_type=item.content_type, max_body_shrink=self.max_body_shrink,
                suspect_reason=item.suspect_reason, note=item.note, new=item.new,
            )
            logger.debug("%s %s -> %s %s", item.article_id, item.url, outcome.kind,
                         outcome.changed_fields or "")
            return outcome.kind
        if isinstance(item, ArticleNotModified):
            fetches.record_not_modified(s, run_id, item.site, item.article_id, item.url)
            return "not_modified"
        if isinstance(item, ArticleGone):
            fetches.record_gone(s, run_id, item.site, item.article_id, item.url, item.status)
            return "gone"
        if isinstance(item, FetchFailed):
            fetches.record_error(s, run_id, item.url, item.kind, item.message, site=item.site,
                                 article_id=item.article_id, status=item.status)
            return "error"
        return "other"


def _describe(item) -> str:
    return f"{type(item).__name__}({getattr(item, 'url', '?')})"
