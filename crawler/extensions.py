"""The crawl-run extension: opens the archive, takes the crawl lease (one crawl at a time
across `newsmon crawl`, the scheduler and `scrapy crawl`), records the run and closes it
with a status read from what actually happened (Scrapy itself exits 0 regardless)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.config import load_site_profile, resolve_db_url, section
from crawler.urls import SiteRules
from storage import Archive

logger = logging.getLogger(__name__)

COVERAGE_FIELDS = ("title", "body", "published_at", "authors")
LEASE_NAME = "crawl"


@dataclass
class RunContext:
    """Shared by the spider (what to fetch), the pipeline (where to write) and this
    extension (how the run ended)."""

    archive: Archive
    run_id: int
    site: str
    rules: SiteRules
    profile: dict[str, Any]
    skipped: bool = False
    # Coverage of parsed pages, for the degraded flag (layout drift shows up here first).
    parsed_pages: int = 0
    field_hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COVERAGE_FIELDS, 0))
    articles_attempted: int = 0
    article_failures: int = 0
    write_failures: int = 0

    def note_parsed(self, record: dict[str, Any]) -> None:
        # A field counts as covered only when the site's own markup or structured data gave
        # it: after a redesign the generic fallbacks still find a body, and that is exactly
        # what the health check has to notice.
        self.parsed_pages += 1
        sources = record.get("sources") or {}
        for name in COVERAGE_FIELDS:
            if record.get(name) and sources.get(name) != "fallback":
                self.field_hits[name] += 1

    def coverage(self) -> dict[str, float]:
        if not self.parsed_pages:
            return {}
        return {k: round(v / self.parsed_pages, 4) for k, v in self.field_hits.items()}


class ArchiveRunExtension:
    def __init__(self, crawler):
        self.crawler = crawler
        self.context: RunContext | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self._heartbeat: asyncio.Task | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSMON_ARCHIVE_ENABLED", True):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        settings = self.crawler.settings
        db_url, _ = resolve_db_url(settings.get("NEWSMON_DB"))
        site = getattr(spider, "site", "rp")
        profile = load_site_profile(site)
        rules = SiteRules.from_profile(profile, getattr(spider, "base_url", None))
        archive = Archive.open(db_url)
        archive.mark_interrupted_runs(status="failed")
        trigger = settings.get("NEWSMON_TRIGGER", "manual")
        options = {
            "base_url": rules.base_url,
            "recheck": getattr(spider, "recheck", "due"),
            "max_articles": getattr(spider, "max_articles", None),
            "db": _redact(db_url),
        }
        run_id = archive.start_run(site=site, base_url=rules.base_url, trigger=trigger,
                                   options=options)
        ctx = RunContext(archive=archive, run_id=run_id, site=site, rules=rules, profile=profile)
        ttl = settings.getfloat("NEWSMON_LEASE_TTL", 120.0)
        if settings.getbool("NEWSMON_LOCK_ENABLED", True) and not archive.acquire_lease(
            LEASE_NAME, holder=self.holder, ttl=ttl
        ):
            ctx.skipped = True
            logger.warning("another crawl holds the lock on this archive; run %s skipped", run_id)
        elif settings.getbool("NEWSMON_LOCK_ENABLED", True):
            self._heartbeat = asyncio.ensure_future(self._renew(archive, ttl))
        self.context = ctx
        spider.run_context = ctx

    async def _renew(self, archive: Archive, ttl: float) -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await asyncio.to_thread(archive.renew_lease, LEASE_NAME, self.holder, ttl)
            except Exception:  # a missed heartbeat is retried; the lease outlives one miss
                logger.exception("could not renew the crawl lease")

    def spider_closed(self, spider, reason: str) -> None:
        ctx = self.context
        if ctx is None:
            return
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        stats = self.crawler.stats
        status, note = self._final_status(ctx, reason)
        if not ctx.skipped:
            ctx.archive.bump_run(
                ctx.run_id,
                retries=int(stats.get_value("retry/count", 0) or 0),
                robots_skipped=int(stats.get_value("robotstxt/forbidden", 0) or 0),
            )
        coverage = ctx.coverage()
        degraded = self._degraded(coverage)
        ctx.archive.finish_run(ctx.run_id, status, note=note, coverage=coverage, degraded=degraded)
        if not ctx.skipped and self.crawler.settings.getbool("NEWSMON_LOCK_ENABLED", True):
            ctx.archive.release_lease(LEASE_NAME, self.holder)
        run = ctx.archive.get_run(ctx.run_id)
        ctx.archive.close()
        self.crawler.stats.set_value("newsmon/run_id", ctx.run_id)
        self.crawler.stats.set_value("newsmon/status", status)
        logger.info("run %s %s: %s", ctx.run_id, status, summary_line(run))

    def _final_status(self, ctx: RunContext, reason: str) -> tuple[str, str | None]:
        if ctx.skipped:
            return "skipped", "another crawl was running"
        if reason == "shutdown":
            return "interrupted", "stopped by a signal before it finished"
        if ctx.write_failures:
            return "failed", f"{ctx.write_failures} archive writes failed"
        run = ctx.archive.get_run(ctx.run_id)
        attempted = ctx.articles_attempted
        max_ratio = float(section("crawl").get("max_error_ratio", 0.5))
        if attempted == 0 and run["errors"]:
            return "failed", "no article could be reached (site down or discovery failed)"
        if attempted and ctx.article_failures / attempted > max_ratio:
            return "failed", f"{ctx.article_failures} of {attempted} article fetches failed"
        if run["pages_fetched"] and not ctx.parsed_pages:
            return "failed", "pages were fetched but none could be parsed"
        if reason not in ("finished", "closespider_itemcount", "closespider_pagecount"):
            return "failed", f"spider closed: {reason}"
        return "completed", None

    def _degraded(self, coverage: dict[str, float]) -> bool:
        thresholds = section("health").get("min_coverage") or {}
        return any(coverage.get(k, 1.0) < float(v) for k, v in thresholds.items() if coverage)


def summary_line(run: dict[str, Any]) -> str:
    keys = ("pages_fetched", "not_modified", "new_articles", "new_versions", "unchanged",
            "gone", "errors", "parse_failures", "suspect")
    return ", ".join(f"{k}={run.get(k, 0)}" for k in keys)


def _redact(url: str) -> str:
    # Never store a password from a PostgreSQL URL in the run record.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
