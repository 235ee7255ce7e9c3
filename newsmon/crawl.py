"""Run a crawl in this process, as `newsmon crawl` does, and return its run records: one
site, or several at once (one crawler each in one CrawlerProcess; each has its own downloader,
so politeness stays per host, and its own run and lease)."""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
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
SITE_SPIDER = "news"


class CrawlError(RuntimeError):
    """The crawl broke down outside any run (not a configuration problem)."""


# Scrapy's own components that it imports by name as a crawl starts, disabled ones included
# (a component is imported before it reads the setting that turns it off): {path: order}
# tables, then single class paths.
_SCRAPY_COMPONENT_TABLES = ("DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE")
_SCRAPY_COMPONENTS = ("DOWNLOADER", "SCHEDULER", "SCHEDULER_PRIORITY_QUEUE",
                      "SCHEDULER_MEMORY_QUEUE", "DUPEFILTER_CLASS", "STATS_CLASS",
                      "LOG_FORMATTER", "ROBOTSTXT_PARSER")


def preload() -> None:
    """Import what a crawl loads once it starts (Scrapy's crawler and default components, the
    spiders, our Scrapy components, the archive, the alert sender), reading no configuration:
    for a process that loads first and crawls later (`newsmon crawl --wait-for-start`, which
    the scheduler starts ahead of a run), so that its settings are read when the run begins,
    not when it loaded. crawler.settings is left out on purpose: its values are read from the
    configuration as it is imported."""
    import scrapy.crawler  # noqa: F401
    from scrapy.settings import default_settings
    from scrapy.utils.misc import load_object

    import crawler.contact  # noqa: F401
    import crawler.extensions  # noqa: F401
    import crawler.middlewares  # noqa: F401
    import crawler.pipelines  # noqa: F401
    import crawler.spiders
    import newsmon.notify.sender  # noqa: F401

    for module in pkgutil.iter_modules(crawler.spiders.__path__, "crawler.spiders."):
        importlib.import_module(module.name)  # as Scrapy's spider loader does
    paths = [getattr(default_settings, name, None) for name in _SCRAPY_COMPONENTS]
    for table in _SCRAPY_COMPONENT_TABLES:
        paths += getattr(default_settings, table, {})
    paths += getattr(default_settings, "DOWNLOAD_HANDLERS_BASE", {}).values()  # {scheme: path}
    for path in filter(None, paths):
        load_object(path)


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
    return run_crawls(db=db, sites=[site], base_url=base_url, recheck=recheck,
                      max_articles=max_articles, trigger=trigger, settings=settings)[0]


def run_crawls(*, db: str | None = None, sites: list[str | None], base_url: str | None = None,
               recheck: str = "due", max_articles: int | None = None, trigger: str = "manual",
               settings: dict[str, Any] | None = None) -> list[dict[str, Any] | None]:
    """Crawl every site of `sites` at once in this process (None: [crawl].site), blocking;
    the run record of each, in order (None for a crawl that never opened its run). A site
    that fails (down, errors) fails its own run only. `base_url` only with a single site."""
    from scrapy.crawler import CrawlerProcess

    from newsmon.notify import sender as notify_sender
    from storage import Archive

    if base_url and len(sites) != 1:
        raise ConfigError("a base URL applies to one site: crawl the others separately")
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
    # The spiders and the components are built (and check their configuration) as each
    # crawl starts, before the reactor runs: a crawl that cannot start stops here, touching
    # no archive. Anything that breaks a crawl later is reported after it.
    errors: list[BaseException] = []
    crawlers: dict[int, Any] = {}

    def start(index: int):
        crawler = crawlers[index] = process.create_crawler(SITE_SPIDER)
        started = process.crawl(crawler, site=sites[index], base_url=base_url,
                                recheck=recheck, max_articles=max_articles)
        return started.addErrback(lambda failure: errors.append(failure.value))

    # Each crawler has a downloader of its own: sites served by one host are crawled one
    # after the other, so that the host sees one crawl's request rate, not the sum.
    for indexes in _by_fetch_host(sites, base_url).values():
        chain = start(indexes[0])
        for index in indexes[1:]:
            chain.addBoth(lambda _, i=index: start(i))
    _raise_first(errors)
    with Archive.open(db_url) as archive:  # alerts: subscriptions see this crawl's events
        subscriptions = notify_sender.before_crawl(archive.engine)
    process.start()
    _raise_first(errors)
    run_ids = [crawlers[i].stats.get_value(STAT_RUN_ID) if i in crawlers else None
               for i in range(len(sites))]
    with Archive.open(db_url) as archive:
        notify_sender.after_crawl(archive.engine, subscriptions)
        return [archive.get_run(run_id) if run_id is not None else None
                for run_id in run_ids]


def _by_fetch_host(sites: list[str | None], base_url: str | None) -> dict[str, list[int]]:
    """Indexes of `sites` grouped by the host their crawls talk to."""
    from crawler.config import load_site_profile
    from crawler.sites import default_site, fetch_host

    groups: dict[str, list[int]] = {}
    for index, site in enumerate(sites):
        load_site_profile(site or default_site())  # an unknown profile: ConfigError, exit 2
        groups.setdefault(fetch_host(site, base_url), []).append(index)
    return groups


def _raise_first(errors: list[BaseException]) -> None:
    for error in errors:
        if isinstance(error, ConfigError):
            raise error
        raise CrawlError(f"the crawl broke down: {error!r}") from error
