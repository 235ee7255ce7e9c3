"""The crawl-run extension: takes the crawl lease (one crawl at a time across `newsmon crawl`,
the scheduler and `scrapy crawl`), opens the run in the archive and closes it with a status
decided from the run's counters in `crawler.stats` (crawler/run_status.py); Scrapy itself
exits 0 regardless.

It reads the thresholds from the settings NEWSMON_MAX_ERROR_RATIO and NEWSMON_MIN_COVERAGE
and writes the run id and final status to the stats (`newsmon/run_id`, `newsmon/status`), as
Scrapy's own corestats and closespider do. A crawl refused by the lease is closed with
reason `skipped` before any request is made."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from crawler.config import ConfigError, resolve_db_url
from crawler.run_status import (
    SKIPPED,
    STAT_RUN_ID,
    STAT_STATUS,
    RunCounters,
    Thresholds,
    decide,
    parse_min_coverage,
    parse_share,
    summary_line,
)
from storage import Archive

logger = logging.getLogger(__name__)

LEASE_NAME = "crawl"


def lease_name(site: str) -> str:
    """The lease of one site: one crawl of a site at a time (politeness), whatever the machine;
    crawls of different sites run side by side (on Scrapyd nodes, newsmon/cluster/)."""
    return f"{LEASE_NAME}:{site}"


def thresholds_from_settings(settings) -> Thresholds:
    """The run's thresholds, checked; a bad value is a ConfigError naming the setting."""
    try:
        return Thresholds(
            max_error_ratio=parse_share("NEWSMON_MAX_ERROR_RATIO",
                                        settings.get("NEWSMON_MAX_ERROR_RATIO")),
            min_coverage=parse_min_coverage("NEWSMON_MIN_COVERAGE",
                                            settings.get("NEWSMON_MIN_COVERAGE")),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


class ArchiveRunExtension:
    def __init__(self, crawler, thresholds: Thresholds):
        self.crawler = crawler
        self.thresholds = thresholds
        self.locking = crawler.settings.getbool("NEWSMON_LOCK_ENABLED", True)
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self._holds_lease = False
        self.lease = LEASE_NAME
        self._heartbeat: asyncio.Task | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSMON_ARCHIVE_ENABLED", True):
            raise NotConfigured
        ext = cls(crawler, thresholds_from_settings(crawler.settings))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        settings = self.crawler.settings
        db_url, _ = resolve_db_url(settings.get("NEWSMON_DB"))
        base_url = spider.rules.base_url
        try:
            archive = Archive.open(db_url)
            archive.mark_interrupted_runs(status="failed")
            self.run_id = archive.start_run(
                site=spider.rules.name, base_url=base_url,
                trigger=settings.get("NEWSMON_TRIGGER", "manual"),
                options={"base_url": base_url, "recheck": spider.recheck,
                         "max_articles": spider.max_articles, "db": _redact(db_url),
                         **_cluster_job(spider, settings)})
        except Exception as exc:  # noqa: BLE001 - any failure to open the run stops the crawl
            logger.error("cannot open a run in the archive %s: %s", _redact(db_url), exc)
            raise CloseSpider("archive_unavailable") from exc
        self.archive = archive
        self.crawler.stats.set_value(STAT_RUN_ID, self.run_id)
        _set_up_collector()
        if not self.locking:
            return
        ttl = settings.getfloat("NEWSMON_LEASE_TTL", 120.0)
        self.lease = lease_name(spider.rules.name)
        if not archive.acquire_lease(self.lease, holder=self.holder, ttl=ttl):
            logger.warning("another crawl holds the lock on this archive; run %s skipped",
                           self.run_id)
            # Closed before the first request: the pipeline writes only into an open run.
            self.crawler.stats.set_value(STAT_STATUS, SKIPPED)
            raise CloseSpider(SKIPPED)
        self._holds_lease = True
        self._heartbeat = asyncio.ensure_future(self._renew(archive, ttl))

    async def _renew(self, archive: Archive, ttl: float) -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await asyncio.to_thread(archive.renew_lease, self.lease, self.holder, ttl)
            except Exception:  # a missed heartbeat is retried; the lease outlives one miss
                logger.exception("could not renew the crawl lease")

    def spider_closed(self, spider, reason: str) -> None:
        archive, run_id = self.archive, self.run_id
        if archive is None or run_id is None:
            return
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        stats = self.crawler.stats
        outcome = decide(RunCounters.from_stats(stats.get_stats()), reason, self.thresholds)
        if outcome.status != SKIPPED:
            archive.bump_run(
                run_id,
                retries=int(stats.get_value("retry/count", 0) or 0),
                robots_skipped=int(stats.get_value("robotstxt/forbidden", 0) or 0),
            )
        archive.finish_run(run_id, outcome.status, note=outcome.note,
                           coverage=outcome.coverage, degraded=outcome.degraded)
        if self._holds_lease:
            archive.release_lease(self.lease, self.holder)
        run = archive.get_run(run_id)
        archive.close()
        stats.set_value(STAT_STATUS, outcome.status)
        logger.info("run %s %s: %s", run_id, outcome.status, summary_line(run))


def _cluster_job(spider, settings) -> dict:
    # Under Scrapyd: the job id (its `_job` argument) and the node the planner named, so the
    # planner finds the run of each job it scheduled (storage/cluster.py).
    job = getattr(spider, "_job", None)
    if not job:
        return {}
    return {"job": job, "node": settings.get("NEWSMON_CLUSTER_NODE")}


_frozen = False
# Young objects between two collections during a crawl (Python's default: 700). An article
# makes thousands that die young; at 700 the collector ran ~330 times in a 1,000-article crawl
# (0.11 s of CPU), at 10,000 ~22 times (0.04 s), peak RSS the same.
CRAWL_GC_THRESHOLD = 10_000


def _set_up_collector() -> None:
    """Move what start-up made (modules, Scrapy's and SQLAlchemy's machinery: most of the heap)
    out of the cyclic collector's sight, once per process: otherwise every full collection of
    the crawl walks it again, ~1.5 ms CPU per article on a 1,000-article crawl. They live as
    long as the process anyway. Collection is switched on here if start-up paused it
    (`newsmon crawl` does), less often than by default (CRAWL_GC_THRESHOLD).

    No collection first: it would walk all of it once more (60 ms of a crawl process) to free
    start-up's garbage, ~5,000 objects measured, which instead stay until the process ends."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
        gc.set_threshold(CRAWL_GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.enable()


def _redact(url: str) -> str:
    # Never store a password from a PostgreSQL URL in the run record.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
