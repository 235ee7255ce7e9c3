"""The `news` spider: crawls the site of one profile (config/sites/<site>.toml; `-a site=NAME`,
default `[crawl].site`). It discovers the section's articles (listing with pagination, news
sitemap and its index, RSS/Atom feeds: whichever the profile lists), fetches new ones and
re-checks known ones when due, with conditional requests from the validators kept in the
archive. `site` is the same spider under its former name (Scrapyd deployments schedule it).

Requests go to the fetch base (`base_url`, e.g. the replica or a mirror); what is archived is
named on the site's public base (crawler/urls.py): an article's URL is its canonical link when
that names the article on the site, else the fetched URL, with a note of why.

The spider sets itself up from its profile and the archive (NEWSMON_DB) alone; what happened
goes to `crawler.stats` under `newsmon/` for the run extension to judge (crawler/run_status.py)."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost, ConnectionRefusedError, DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.web._newclient import ResponseFailed

from crawler import discovery
from crawler.config import ConfigError, load_site_profile, resolve_db_url
from crawler.items import ArticleFetched, ArticleGone, ArticleNotModified, FetchFailed
from crawler.parsers import ParseError, load_profile, parse_article
from crawler.parsers.decode import declares_utf8, decode_html
from crawler.parsers.document import NotUTF8
from crawler.run_status import (
    STAT_ARTICLE_FAILURES,
    STAT_ARTICLE_PAGES,
    STAT_ATTEMPTED,
    STAT_COVERED,
    STAT_PARSED,
    STAT_SOURCE_FAILURES,
    covered_fields,
    generic_fields,
)
from crawler.sites import default_site
from crawler.urls import SiteRules
from crawler.validation import page_problem
from storage import Archive

RECHECK_MODES = ("all", "due", "none")


class NewsSpider(scrapy.Spider):
    name = "news"
    # The profile crawled; a subclass may fix it (the `rp` shortcut), else `-a site=NAME`,
    # else [crawl].site.
    site: str | None = None
    # Article answers the spider wants to see itself rather than as errors.
    article_statuses = [304, 404, 410]

    def __init__(self, site: str | None = None, base_url: str | None = None,
                 recheck: str = "due", max_articles: str | int | None = None, **kwargs):
        super().__init__(**kwargs)
        if recheck not in RECHECK_MODES:
            raise ConfigError(f"recheck must be one of {', '.join(RECHECK_MODES)}, "
                              f"not {recheck!r}")
        try:
            self.max_articles = int(max_articles) if max_articles not in (None, "") else None
        except ValueError:
            raise ConfigError(f"max_articles must be a number, not {max_articles!r}") from None
        self.site = site or self.site or default_site()
        self.profile = load_site_profile(self.site)
        # Where requests go (`base_url`, else the profile's) and what they may reach.
        self.rules = SiteRules.from_profile(self.profile, base_url)
        self.recheck = recheck
        for _, listing in source_paths(self.profile.get("discovery", {}), "listing"):
            if problem := discovery.pagination_problem(listing):
                raise ConfigError(f"site {self.site}: {problem}")
        self._scheduled: set[str] = set()  # article ids requested in this run
        self._known: set[str] = set()  # article ids already in the archive
        self._parser_selectors: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # The profile's [politeness] applies before the crawler's settings are frozen; at the
        # spider's priority, so the configuration's defaults yield and `-s` still wins.
        for key, value in politeness_settings(spider.profile).items():
            crawler.settings.set(key, value, priority="spider")
        return spider

    async def start(self):
        # Known articles are fetched from this list only (all of them with --recheck all);
        # discovery then schedules just the ones the archive has never seen.
        db_url, _ = resolve_db_url(self.settings.get("NEWSMON_DB"))
        with Archive.open(db_url) as archive:
            self._known = archive.known_article_ids(self.rules.name)
            due = archive.due_articles(self.rules.name, datetime.now(UTC),
                                       self.profile.get("revisit", {}), mode=self.recheck)
        for state in due:
            # The stored URL is the article's identity (on the site's public base, perhaps in
            # another section): it is requested from the host this crawl talks to.
            request = self._article_request(state.url, state.article_id, known=state)
            if request is not None:
                yield request
        for request in self._discovery_requests():
            yield request

    # -- discovery -------------------------------------------------------------------------

    def _discovery_requests(self):
        # A source is used when the profile lists it with a path (`paths` for several feeds)
        # and does not switch it off: a site offers some of them, not all.
        sources = self.profile.get("discovery", {})
        for path, listing in source_paths(sources, "listing"):
            yield self._source_request(path, self.parse_listing, "listing", page=1,
                                       listing={**listing, "path": path})
        for path, _ in source_paths(sources, "news_sitemap"):
            yield self._source_request(path, self.parse_sitemap, "news_sitemap")
        for path, index in source_paths(sources, "sitemap_index"):
            yield self._source_request(path, self.parse_sitemap, "sitemap_index",
                                       follow=index.get("follow", "news"))
        for path, _ in source_paths(sources, "rss"):
            yield self._source_request(path, self.parse_feed, "rss")

    def _source_request(self, path: str, callback, source: str, **meta: Any) -> scrapy.Request:
        return scrapy.Request(
            self.rules.absolute(path), callback=callback, errback=self.source_failed,
            meta={"source": source, **meta}, priority=10,
        )

    def parse_listing(self, response):
        urls = list(discovery.listing_links(response.body, response.url))
        yield from self._follow_articles(urls, response.meta["source"])
        listing, page = response.meta["listing"], response.meta["page"]
        following = discovery.next_listing_page(listing, page, response.body, response.url, urls)
        if following is None:
            return
        # A rel=next address may name the real site's host (a mirror): fetched from ours.
        next_url = self.rules.fetch_url(following)
        if not self.rules.is_allowed(next_url):
            self.logger.warning("listing page %s links its next page off the site: %s",
                                response.url, next_url)
            return
        yield scrapy.Request(next_url, callback=self.parse_listing,
                             errback=self.source_failed, priority=10,
                             meta={"source": "listing", "page": page + 1, "listing": listing})

    def parse_sitemap(self, response):
        kind, locs = discovery.sitemap_locs(response.body)
        if kind == "invalid":
            yield self._source_failure(response.url, "invalid_sitemap", "not a sitemap",
                                       status=response.status)
            return
        if kind == "index":
            follow = response.meta.get("follow", "news")
            for loc in locs:
                # A mirror's index keeps the real site's addresses: fetched from our host.
                url = self.rules.fetch_url(loc)
                if follow in loc and self.rules.is_allowed(url):
                    yield scrapy.Request(url, callback=self.parse_sitemap,
                                         errback=self.source_failed, priority=10,
                                         meta={"source": response.meta["source"]})
            return
        yield from self._follow_articles(locs, response.meta["source"])

    def parse_feed(self, response):
        yield from self._follow_articles(discovery.feed_links(response.body),
                                         response.meta["source"])

    def _follow_articles(self, urls, source: str):
        for url in urls:
            article_id = self.rules.article_id(url)
            # Each source lists the articles the others did: skipped before any more URL work.
            if article_id is None or article_id in self._known or article_id in self._scheduled:
                continue
            request = self._article_request(self.rules.identity_url(url), article_id,
                                            source=source)
            if request is not None:
                yield request

    def source_failed(self, failure):
        request = failure.request
        kind, status = classify_failure(failure)
        self.logger.warning("discovery source %s failed: %s", request.url, kind)
        yield self._source_failure(request.url, kind, str(failure.value)[:500], status=status,
                                   source=request.meta.get("source"))

    # -- articles --------------------------------------------------------------------------

    def _article_request(self, url: str, article_id: str, known=None, source: str = "recheck"):
        """A request for the article whose identity URL is `url`, sent to the fetch base."""
        if article_id in self._scheduled:
            return None
        if self.max_articles is not None and len(self._scheduled) >= self.max_articles:
            return None
        self._scheduled.add(article_id)
        self.crawler.stats.inc_value(STAT_ATTEMPTED)
        headers = {}
        if known is not None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(
            self.rules.fetch_url(url), callback=self.parse_article,
            errback=self.article_failed, headers=headers,
            # dont_filter: articles are deduplicated by id above; Scrapy's URL filter would
            # silently swallow a redirect that loops back to an address already seen.
            dont_filter=True,
            meta={"article_id": article_id, "known": known is not None, "source": source,
                  "handle_httpstatus_list": self.article_statuses},
        )

    def parse_article(self, response):
        article_id = response.meta["article_id"]
        # Outcomes are recorded under the article's identity URL, not the host we talked to.
        url = self.rules.identity_url(response.url)
        if response.status == 304:
            yield ArticleNotModified(self.rules.name, article_id, url)
            return
        if response.status in (404, 410):
            if response.meta["known"]:
                yield ArticleGone(self.rules.name, article_id, url, response.status)
            else:
                yield self._article_failure(url, f"http_{response.status}", "article not found",
                                            status=response.status, article_id=article_id)
            return
        redirected_id = self.rules.site_article_id(response.url)
        if redirected_id is not None and redirected_id != article_id:
            # A redirect to another article of the site: not this article's content.
            yield self._article_failure(url, "redirect_other_article",
                                        f"redirected to article {redirected_id}",
                                        status=response.status, article_id=article_id)
            return
        content_type = _header(response, "Content-Type")
        body = response.body
        record, error, suspect, note = None, None, None, None
        try:
            # The parser reads the page where it was fetched (relative links resolve there),
            # with the profile variant in force now, whose fingerprint the version keeps.
            profile = load_profile(self.site)
            self._parser_selectors = profile.selectors
            parsed = None
            if declares_utf8(content_type) and not body.startswith(codecs.BOM_UTF8):
                # Parsed as they came, checked by libxml2 as it reads them. Bytes that are not
                # UTF-8 after all, or no page at all, take the way of any other page below
                # (its decoding decides what is reported).
                try:
                    parsed = parse_article(body, url=response.url, site=profile, utf8=body)
                except (NotUTF8, ParseError):
                    pass
            if parsed is None:
                decoded = decode_html(body, content_type)
                if decoded.problem:
                    self.logger.warning("%s: %s", url, decoded.problem)
                    self.crawler.stats.inc_value("newsmon/charset_problems")
                # Text strictly decoded as UTF-8 is parsed from its bytes (document.py).
                utf8 = (body if decoded.encoding == "utf-8" and decoded.problem is None
                        and not body.startswith(codecs.BOM_UTF8) else None)
                parsed = parse_article(decoded.text, url=response.url, site=profile, utf8=utf8)
            record = parsed.to_dict()
            record["parser_fingerprint"] = profile.fingerprint
            self._count_parsed(record)
            suspect = page_problem(record, response.body, article_id,
                                   self.rules.site_article_id)
            record["article_id"] = article_id  # identity comes from the URL we asked for
            url, note = self.rules.article_url(article_id, response.url,
                                               record.get("canonical_url"))
            if note:
                self.logger.info("article %s: %s", article_id, note)
                self.crawler.stats.inc_value("newsmon/canonical_ignored")
        except ParseError as exc:
            error = str(exc)
        self.crawler.stats.inc_value(STAT_ARTICLE_PAGES)
        yield ArticleFetched(
            site=self.rules.name, article_id=article_id, url=url, raw=response.body, record=record,
            parse_error=error, status=response.status,
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            content_type=content_type, suspect_reason=suspect, note=note,
            new=not response.meta["known"],
        )

    def article_failed(self, failure):
        request = failure.request
        kind, status = classify_failure(failure)
        if kind == "robots":
            # Not an error: counted as robots_skipped from Scrapy's stats. Still scheduled, so
            # that another source listing it does not ask (and count) again.
            return
        self._scheduled.discard(request.meta.get("article_id"))
        # One line per failed article (newsmon/logpolicy.py keeps Scrapy's quieter).
        self.logger.warning("article %s failed: %s", request.url, kind)
        yield self._article_failure(request.url, kind, str(failure.value)[:500],
                                    status=status, article_id=request.meta.get("article_id"))

    # -- what happened, for the archive (items) and for the run's status (stats) -------------

    def _count_parsed(self, record: dict[str, Any]) -> None:
        stats = self.crawler.stats
        stats.inc_value(STAT_PARSED)
        for name in covered_fields(record, generic_fields(self._parser_selectors)):
            stats.inc_value(STAT_COVERED + name)

    def _article_failure(self, url: str, kind: str, message: str, *, status: int | None,
                         article_id: str | None) -> FetchFailed:
        self.crawler.stats.inc_value(STAT_ARTICLE_FAILURES)
        return FetchFailed(url=url, kind=kind, message=message, site=self.rules.name,
                           article_id=article_id, status=status)

    def _source_failure(self, url: str, kind: str, message: str, *, status: int | None,
                        source: str | None = None) -> FetchFailed:
        self.crawler.stats.inc_value(STAT_SOURCE_FAILURES)
        return FetchFailed(url=url, kind=kind, message=message, site=self.rules.name,
                           status=status, extra={"source": source} if source else {})


class SiteSpider(NewsSpider):
    """The news spider under its former name (`scrapy crawl site`, Scrapyd's default)."""

    name = "site"


# Profile [politeness] keys and the Scrapy settings they set for that site's crawl.
POLITENESS_SETTINGS = {
    "download_delay": "DOWNLOAD_DELAY",
    "concurrent_requests_per_host": "CONCURRENT_REQUESTS_PER_DOMAIN",
    "autothrottle_max_delay": "AUTOTHROTTLE_MAX_DELAY",
    "download_timeout": "DOWNLOAD_TIMEOUT",
    "retry_times": "RETRY_TIMES",
}


def politeness_settings(profile: dict[str, Any]) -> dict[str, Any]:
    table = profile.get("politeness") or {}
    unknown = sorted(set(table) - set(POLITENESS_SETTINGS))
    if unknown:
        raise ConfigError(f"site profile {profile.get('site', {}).get('name')!r}: unknown "
                          f"[politeness] keys {unknown} (known: {', '.join(POLITENESS_SETTINGS)})")
    return {POLITENESS_SETTINGS[key]: value for key, value in table.items()}


def source_paths(sources: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(path, table) of every discovery source of `kind` the profile enables."""
    table = sources.get(kind) or {}
    if not table.get("enabled", True):
        return []
    paths = table.get("paths") or ([table["path"]] if table.get("path") else [])
    return [(path, table) for path in paths]


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def classify_failure(failure) -> tuple[str, int | None]:
    """A short error kind for run counts: http_<status>, timeout, connection, dns, robots..."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http_{status}", status
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        if "robots" in message:
            return "robots", None
        if "offsite" in message or "not allowed" in message:
            return "offsite", None
        if "redirections" in message:
            return "redirect_loop", None
        return "ignored", None
    if failure.check(DownloadCancelledError):
        # Scrapy cancels a download that exceeds DOWNLOAD_MAXSIZE.
        return "oversize", None
    if failure.check(DownloadTimeoutError, TwistedTimeoutError):
        return "timeout", None
    if failure.check(CannotResolveHostError, DNSLookupError):
        return "dns", None
    if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
        return "connection_refused", None
    if failure.check(ResponseDataLossError, ConnectionLost, ResponseFailed, DownloadFailedError):
        return "connection_lost", None
    return (failure.type.__name__ if failure.type else "error"), None
