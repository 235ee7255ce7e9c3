"""Scrapy settings of the newsmon project (`scrapy crawl rp` and `newsmon crawl` both use
them). Values come from [crawl] and [health] of the layered configuration (crawler/config.py);
each can be overridden with -s NAME=VALUE."""

from scrapy.settings.default_settings import (
    DOWNLOADER_MIDDLEWARES_BASE as _SCRAPY_DOWNLOADER_MIDDLEWARES_BASE,
)
from scrapy.settings.default_settings import EXTENSIONS_BASE as _SCRAPY_EXTENSIONS_BASE

from crawler.config import section
from crawler.contact import user_agent

_crawl = section("crawl")
_health = section("health")

BOT_NAME = "newsmon"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Identifiable client with the operator's contact ([crawl].contact), as polite crawlers do;
# crawler.contact warns at startup when a public site would see no contact.
USER_AGENT = user_agent(_crawl.get("contact"))
ROBOTSTXT_OBEY = True

# One request at a time per host, a delay floor, and AutoThrottle above it.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = int(_crawl.get("concurrent_requests_per_host", 1))
DOWNLOAD_DELAY = float(_crawl.get("download_delay", 1.0))
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
# AutoThrottle starts at max(DOWNLOAD_DELAY, this): from the delay floor, so that
# `-s DOWNLOAD_DELAY=0` (a local replica) does not still start at a second per request.
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = float(_crawl.get("autothrottle_max_delay", 30.0))
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Items handled at once per response. Scrapy starts this many asyncio tasks for every
# response a callback answers; an article page yields one item and a sitemap only requests
# (scheduled without waiting), so its default of 100 only cost CPU: 0.8 ms per page, a third
# of fetching a 460 KB page, and 4 still 0.18 ms more than 1 per article of a crawl.
CONCURRENT_ITEMS = 1

# Scrapy checks every callback for a generator that returns a value, by reading its source
# and parsing it (1.3 ms); its cache is keyed by the bound method, which each request holds
# a new one of, so a crawl parses the spider's source again whenever no earlier request of
# the same callback is still alive. Our callbacks return nothing (a bare `return` only).
WARN_ON_GENERATOR_RETURN_VALUE = False

DOWNLOAD_TIMEOUT = int(_crawl.get("download_timeout", 30))
DOWNLOAD_MAXSIZE = int(_crawl.get("download_maxsize", 16 * 1024 * 1024))
DOWNLOAD_WARNSIZE = DOWNLOAD_MAXSIZE // 2

RETRY_ENABLED = True
RETRY_TIMES = int(_crawl.get("retry_times", 3))
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
NEWSMON_RETRY_AFTER_MAX = float(_crawl.get("retry_after_max", 300))
NEWSMON_HOST_RETRY_BUDGET = int(_crawl.get("host_retry_budget", 50))
REDIRECT_MAX_TIMES = 5

# Both are on by default in Scrapy 2.19 and expose the process on localhost: off. They are
# also taken out of Scrapy's base list of extensions (not set to None in EXTENSIONS, whose
# keys Scrapy imports to compare them): an extension is imported before it reads its
# *_ENABLED setting, and the remote control's import pulls in aiohttp, ~0.25 s of every
# crawl process's start-up (the telnet console's, twisted.conch).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
_NOT_LOADED = {"scrapy.extensions.telnet.TelnetConsole",
               "scrapy.extensions.remote_control.RemoteControl"}
EXTENSIONS_BASE = {path: order for path, order in _SCRAPY_EXTENSIONS_BASE.items()
                   if path not in _NOT_LOADED}

# No cookies: every fetch should see what an anonymous reader sees. The middleware is not even
# loaded (its import pulls in tldextract and requests, ~60 ms of every crawl's start-up); nor is
# Scrapy's meta-refresh middleware, replaced by one that reads only the head of a page, nor
# its robots.txt middleware, replaced by one that checks every request (crawler/middlewares.py).
COOKIES_ENABLED = False
_NOT_LOADED_MIDDLEWARES = {"scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
                           "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware",
                           "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"}
DOWNLOADER_MIDDLEWARES_BASE = {path: order
                               for path, order in _SCRAPY_DOWNLOADER_MIDDLEWARES_BASE.items()
                               if path not in _NOT_LOADED_MIDDLEWARES}
# No HTTP cache: it hides edits (DummyPolicy never revalidates); we revalidate ourselves.
HTTPCACHE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.HostGuardMiddleware": 60,
    "crawler.middlewares.RobotsTxtMiddleware": 100,  # where Scrapy's was
    # Higher than RetryMiddleware (550) so that it sees 429/503 responses first.
    "crawler.middlewares.RetryAfterMiddleware": 560,
    "crawler.middlewares.HeadMetaRefreshMiddleware": 580,  # Scrapy's MetaRefreshMiddleware's
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
EXTENSIONS = {"crawler.extensions.ArchiveRunExtension": 100, "crawler.contact.ContactCheck": 110,
              "newsmon.logpolicy.LogPolicy": 120, "newsmon.progress.CrawlProgress": 130}
# Progress on stderr (newsmon/progress.py): auto (a live display on a terminal, else a log
# line every NEWSMON_PROGRESS_INTERVAL seconds), live, log or off (`newsmon -q`).
NEWSMON_PROGRESS = "auto"
NEWSMON_PROGRESS_INTERVAL = float(_crawl.get("progress_interval", 60))

# Archive location: None means $NEWSMON_DB, then config, then the default SQLite file.
NEWSMON_DB = None
NEWSMON_TRIGGER = "manual"
NEWSMON_LOCK_ENABLED = True
NEWSMON_LEASE_TTL = 120

# Run thresholds (crawler/run_status.py), from the configuration; `-s` overrides them, e.g.
# -s NEWSMON_MAX_ERROR_RATIO=0 -s 'NEWSMON_MIN_COVERAGE={"title": 0.99}' (JSON, replaces the
# whole table). A run fails when more than this share of its article fetches failed:
NEWSMON_MAX_ERROR_RATIO = _crawl.get("max_error_ratio", 0.5)
# A run is degraded when a field's share of parsed pages drops below its minimum:
NEWSMON_MIN_COVERAGE = dict(_health.get("min_coverage") or {})
# A fetch whose body shrank by more than this share (paywall unchanged) is held as suspect:
NEWSMON_MAX_BODY_SHRINK = _health.get("max_body_shrink", 0.5)

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
