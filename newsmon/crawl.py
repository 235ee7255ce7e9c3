"""Run one crawl in this process, as `newsmon crawl` does, and return its run record."""

from __future__ import annotations

import logging
import os
from typing import Any

# Imported here, at the top of a shallow stack, rather than by Scrapy while it builds the
# downloader: Scrapy 2.19's TLS context factory module (and its tls module) create deprecated
# aliases with create_deprecated_class, which calls inspect.stack(): that reads the source of
# every frame on the stack, about twice as long from deep inside the crawler's start-up
# (~150 ms against ~80 ms on a 2-core machine) on every crawl process.
import scrapy.core.downloader.handlers.http11  # noqa: F401

from crawler.config import ConfigError, resolve_db_url
from crawler.run_status import STAT_RUN_ID

# The spider that crawls any site profile (crawler/spiders/site.py).
SITE_SPIDER = "site"


class CrawlError(RuntimeError):
    """The crawl broke down outside any run (not a configuration problem)."""


def project_settings(overrides: dict[str, Any] | None = None):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(*, db: str | None = None, site: str | None = None, base_url: str | None = None,
              recheck: str = "due", max_articles: int | None = None, trigger: str = "manual",
              settings: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Crawl `site` (default: [crawl].site) once, blocking (one per process: Twisted's reactor
    cannot restart), and return the run record, or None when the crawl never got to open its
    run. A crawl that cannot start (unknown profile, unreadable config, bad setting) raises
    ConfigError before any request."""
    from scrapy.crawler import CrawlerProcess

    from newsmon.notify import sender as notify_sender
    from storage import Archive

    db_url, _ = resolve_db_url(db)
    # Scrapy installs its own root log handler at the CLI's level (quiet unless -v): drop
    # ours so that each line is printed once.
    root = logging.getLogger()
    level = logging.getLevelName(root.level or logging.WARNING)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    overrides = {"NEWSMON_DB": db_url, "NEWSMON_TRIGGER": trigger, "LOG_LEVEL": level,
                 **(settings or {})}
    process = CrawlerProcess(project_settings(overrides))
    crawler = process.create_crawler(SITE_SPIDER)
    started = process.crawl(crawler, site=site, base_url=base_url, recheck=recheck,
                            max_articles=max_articles)
    # The spider and the components are built (and check their configuration) as the crawl
    # starts, before the reactor runs: a crawl that cannot start stops here, touching no
    # archive. Anything that breaks the crawl later is reported after it.
    errors: list[BaseException] = []
    started.addErrback(lambda failure: errors.append(failure.value))
    _raise_first(errors)
    with Archive.open(db_url) as archive:  # alerts: subscriptions see this crawl's events
        subscriptions = notify_sender.before_crawl(archive.engine)
    process.start()
    _raise_first(errors)
    run_id = crawler.stats.get_value(STAT_RUN_ID)
    if run_id is None:
        return None
    with Archive.open(db_url) as archive:
        notify_sender.after_crawl(archive.engine, subscriptions)
        return archive.get_run(run_id)


def _raise_first(errors: list[BaseException]) -> None:
    for error in errors:
        if isinstance(error, ConfigError):
            raise error
        raise CrawlError(f"the crawl broke down: {error!r}") from error
