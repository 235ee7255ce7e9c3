"""A new site from its address (`newsmon sites add URL`) and a look at how well a profile reads
its pages (`newsmon sites check NAME`). Plain HTTP (urllib, the crawl's User-Agent, robots.txt
obeyed for article pages), no Scrapy and no archive.

`add` discovers what the site offers (robots.txt `Sitemap:` lines, /sitemap.xml and the news
sitemaps an index names, RSS/Atom `<link rel="alternate">` on the home and section page),
collects article URLs from them, infers the article URL pattern and id rule (infer_pattern),
test-parses a few samples with the generic parser and writes a complete profile."""

from __future__ import annotations

import re
import tomllib
import urllib.error
import urllib.request
import urllib.robotparser
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

from crawler import discovery
from crawler.config import (
    ConfigError,
    built_in_layer,
    config_layers,
    load_site_profile,
    reload,
    section,
    user_config_dir,
)
from crawler.contact import user_agent
from crawler.parsers import ParseError, build_profile, load_profile, parse_article
from crawler.parsers.decode import decode_html

# Field sources that are the site's own structured data (JSON-LD, meta tags).
STRUCTURED = ("jsonld", "meta")
REPORT_FIELDS = ("title", "authors", "published_at", "body", "paywalled", "lead", "tags")
FEED_TYPES = ("application/rss+xml", "application/atom+xml")
MAX_SITEMAPS = 8
MAX_CANDIDATES = 400
LISTING_PAGES = 5  # listing pages a written profile follows (as rp.toml)


@dataclass
class Sources:
    news_sitemaps: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # indexes or plain urlsets
    feeds: list[str] = field(default_factory=list)
    listing: str | None = None
    # How the listing numbers its pages (discovery.next_listing_page), None: one page.
    pagination: str | None = None
    page_param: str | None = None


@dataclass
class Sample:
    url: str
    record: dict[str, Any] | None
    error: str | None = None

    def field_sources(self) -> dict[str, str]:
        """Field -> where its value came from, for the fields the page has."""
        if self.record is None:
            return {}
        sources = self.record.get("sources") or {}
        return {name: sources.get(name, "default") for name in REPORT_FIELDS
                if self.record.get(name) not in (None, "", [])}


@dataclass
class AddReport:
    name: str
    path: Path
    sources: Sources
    article_pattern: str
    id_pattern: str | None
    candidates: int
    samples: list[Sample]


class Fetcher:
    def __init__(self, timeout: float = 15.0):
        self.headers = {"User-Agent": user_agent(section("crawl").get("contact"))}
        self.timeout = timeout
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}

    def get(self, url: str) -> tuple[int, str, bytes]:
        """(status, content type, body); status 0 when the server cannot be reached."""
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), \
                    response.read(16 * 1024 * 1024)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", ""), b""
        except (urllib.error.URLError, OSError, ValueError):
            return 0, "", b""

    def allowed(self, url: str) -> bool:
        root = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        if root not in self._robots:
            parser = urllib.robotparser.RobotFileParser()
            status, _, body = self.get(root + "/robots.txt")
            parser.parse(body.decode("utf-8", "replace").splitlines() if status == 200 else [])
            self._robots[root] = parser
        return self._robots[root].can_fetch(self.headers["User-Agent"], url)


# -- discovery -----------------------------------------------------------------------------


def discover(base_url: str, section_path: str | None, fetcher: Fetcher) -> tuple[Sources,
                                                                                  list[str]]:
    """What the site offers, and the article URL candidates found there (news sitemaps
    first: they list articles only)."""
    sources = Sources(listing=section_path)
    status, _, robots = fetcher.get(base_url + "/robots.txt")
    sitemap_urls = []
    if status == 200:
        sitemap_urls = [line.split(":", 1)[1].strip()
                        for line in robots.decode("utf-8", "replace").splitlines()
                        if line.lower().startswith("sitemap:")]
    sitemap_urls.append(base_url + "/sitemap.xml")
    news, plain = _read_sitemaps(sitemap_urls, fetcher, sources)
    pages = [base_url + "/"] + ([base_url + section_path] if section_path else [])
    feed_items: list[str] = []
    for page in pages:
        status, _, body = fetcher.get(page)
        if status != 200 or not body:
            continue
        if section_path and page == base_url + section_path:
            sources.pagination, sources.page_param = detect_pagination(body, page,
                                                                       section_path)
        for href in _feed_links(body, page):
            if href not in sources.feeds:
                sources.feeds.append(href)
                feed_status, _, feed = fetcher.get(href)
                if feed_status == 200:
                    feed_items += discovery.feed_links(feed)
    return sources, list(dict.fromkeys(news + feed_items + plain))[:MAX_CANDIDATES]


# Path templates of listing page N that CMSs use (WordPress, many others), tried in order.
PAGE_TEMPLATES = ("{path}page/{n}/", "{path}page/{n}", "{path}{n}/")
PAGE_PARAMS = ("page", "paged", "p", "pg", "strona")


def detect_pagination(html: bytes, page_url: str, listing_path: str
                      ) -> tuple[str | None, str | None]:
    """(pagination, page_param) for the profile, from the listing's first page: `rel_next`
    when it links its successor with rel="next" (the site says where page 2 is, whatever its
    address), else a path template or a query parameter that one of its links uses for page
    2; (None, None) for a listing of one page."""
    if discovery.next_links(html, page_url):
        return "rel_next", None
    links = list(discovery.listing_links(html, page_url))
    listing = {"path": listing_path, "max_pages": 2}
    for template in PAGE_TEMPLATES:
        if discovery.next_listing_page({**listing, "pagination": template}, 1, html,
                                       page_url, links):
            return template, None
    for param in PAGE_PARAMS:
        if discovery.next_listing_page({**listing, "page_param": param}, 1, html, page_url,
                                       links):
            return "query", param
    return None, None


def _read_sitemaps(urls: list[str], fetcher: Fetcher, sources: Sources):
    news: list[str] = []
    plain: list[str] = []
    top = list(dict.fromkeys(urls))
    queue, seen = list(top), set()
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        status, _, body = fetcher.get(url)
        if status != 200:
            continue
        kind, locs = discovery.sitemap_locs(body)
        if kind == "invalid":
            continue
        is_news = kind == "urlset" and (b"sitemap-news" in body
                                        or "news" in urlsplit(url).path.lower())
        if is_news:
            sources.news_sitemaps.append(url)
        elif url in top:
            # A plain sitemap named by an index is read through that index.
            sources.sitemaps.append(url)
        if kind == "index":
            queue.extend(locs)
        else:
            (news if is_news else plain).extend(locs)
    return news, plain


def _feed_links(html: bytes, page_url: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    links = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower() in FEED_TYPES:
            href = link.get("href")
            if href:
                links.append(urljoin(page_url, href))
    return links


# -- the article URL pattern ---------------------------------------------------------------

_YEAR = re.compile(r"(?:19|20)\d\d$")
_SMALL = re.compile(r"\d{1,2}$")


def infer_pattern(paths: list[str], section_path: str | None = None
                  ) -> tuple[str, str | None, list[str]]:
    """(article_pattern, id_pattern, the paths it matches) for sample article paths: the most
    common shape (segment count), literal where every sample agrees, dates as digits, and the
    article id: a unique number (its own segment, or leading or trailing the last one), else
    the last segment (a slug). id_pattern reads the id from a last segment in any section."""
    prefix = "/" + section_path.strip("/") + "/" if section_path and section_path.strip("/") \
        else "/"
    split = [p.strip("/").split("/") for p in paths if p.startswith(prefix) and p.strip("/")]
    if not split:
        raise ConfigError(f"no article URLs found under {prefix}")
    depth = Counter(len(s) for s in split).most_common(1)[0][0]
    shaped = [s for s in split if len(s) == depth]
    prefix_parts = prefix.strip("/").split("/") if prefix != "/" else []
    parts, id_part = [], None
    for i in range(depth):
        values = [s[i] for s in shaped]
        distinct = set(values)
        if i < len(prefix_parts):
            parts.append(re.escape(values[0]))
        elif all(_YEAR.match(v) for v in values):
            parts.append(r"\d{4}")  # dates vary even when every sample is of one day
        elif all(_SMALL.match(v) for v in values):
            parts.append(r"\d{1,2}")
        elif i < depth - 1 and len(distinct) == 1:
            parts.append(re.escape(values[0]))
        elif all(v.isdigit() for v in values) and len(distinct) == len(values):
            parts.append(r"(?P<article_id>\d+)")
            id_part = i
        else:
            parts.append("[^/]+")
    last = [s[-1] for s in shaped]
    id_pattern = None
    if id_part is None:
        parts[-1], id_pattern = _last_segment_rule(last)
    article_pattern = "^/" + "/".join(parts) + "$"
    regex = re.compile(article_pattern)
    matched = [p for p in paths if regex.match(p.rstrip("/") or "/")]
    return article_pattern, id_pattern, matched


def _last_segment_rule(values: list[str]) -> tuple[str, str | None]:
    """The last segment's regex with the id group, and the id_pattern (None for a slug)."""
    ext = {m.group(0) for v in values if (m := re.search(r"\.[a-z]{2,5}$", v))}
    suffix = re.escape(ext.pop()) if len(ext) == 1 and all("." in v for v in values) else ""
    # Letters every sample writes before the number ("art40671561-slug").
    lead = {re.match(r"[A-Za-z]*", v).group() for v in values}
    lead_text = re.escape(lead.pop()) if len(lead) == 1 else ""
    for rule in (lead_text + r"(?P<article_id>\d{3,})(?:[-_][^/]*)?" + suffix,
                 r"[^/]*?[-_](?P<article_id>\d{3,})" + suffix):
        ids = [m.group("article_id") for v in values if (m := re.fullmatch(rule, v))]
        if len(ids) == len(values) and len(set(ids)) == len(ids):
            return rule, rule
    return r"(?P<article_id>[^/]+)", None


# -- the profile -----------------------------------------------------------------------------


def config_dir() -> Path:
    """Where `sites add` writes: the project directory in effect, else the user's."""
    for layer in config_layers():
        if layer.name == "project" and isinstance(layer.directory, Path):
            return layer.directory
    return user_config_dir()


def _rel(base_url: str, url: str) -> str:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" == base_url:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url


def _q(value: str) -> str:
    return "'" + value + "'" if "'" not in value else '"' + value.replace("\\", "\\\\") + '"'


def profile_text(name: str, base_url: str, sources: Sources, article_pattern: str,
                 id_pattern: str | None) -> str:
    host = urlsplit(base_url).netloc
    lines = [f"# Site profile {name!r}, written by `newsmon sites add {base_url}`.",
             "# Check it with `newsmon sites check " + name + "`; where a field is missing or",
             "# wrong, add [selectors] for the site's template (see rp.toml for every key).",
             "", "[site]", f'name = "{name}"', f'display_name = "{host}"',
             f'base_url = "{base_url}"', f'allowed_hosts = ["{host}"]',
             f"article_pattern = {_q(article_pattern)}"]
    if id_pattern:
        lines.append(f"id_pattern = {_q(id_pattern)}")
    lines += ["", "[discovery]"]

    def entry(key: str, urls: list[str], extra: str = "") -> None:
        if urls:
            paths = ", ".join(f'"{_rel(base_url, u)}"' for u in urls)
            lines.append(f"{key} = {{ paths = [{paths}]{extra} }}")

    if sources.listing and sources.pagination:
        # Every run reads the listing's first pages for new articles; deeper pages are what
        # the sitemaps and feeds no longer carry.
        rule = f'pagination = "{sources.pagination}"'
        if sources.page_param:
            rule += f', page_param = "{sources.page_param}"'
        lines.append(f'listing = {{ path = "{sources.listing}", {rule}, '
                     f'max_pages = {LISTING_PAGES} }}')
    elif sources.listing:
        lines.append(f'listing = {{ path = "{sources.listing}", max_pages = 1 }}')
    entry("news_sitemap", sources.news_sitemaps)
    if not sources.news_sitemaps:
        entry("sitemap_index", sources.sitemaps, ', follow = ""')
    entry("rss", sources.feeds)
    lines += ["", "# Revisit policy and parser: the generic ones (JSON-LD, meta tags, then "
              "main-text", "# extraction), as config/sites/generic.toml has them.", ""]
    return "\n".join(lines) + "\n" + _generic_tables()


def _generic_tables() -> str:
    shipped = built_in_layer().file("sites/generic.toml")
    if shipped is None:
        raise ConfigError("the shipped generic profile is missing; reinstall newsmon")
    text = shipped.read_text(encoding="utf-8")
    return text[text.index("\n[revisit]") + 1:]


def add_site(base_url: str, name: str | None = None, section_path: str | None = None,
             samples: int = 3, force: bool = False, fetcher: Fetcher | None = None) -> AddReport:
    """Discover the site at `base_url`, write sites/NAME.toml into the configuration directory
    in effect and return what was found. ConfigError when nothing can be made of it."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) address: {base_url!r}")
    base = f"{parts.scheme}://{parts.netloc}"
    if section_path is None and parts.path.strip("/"):
        section_path = parts.path
    if section_path:
        section_path = "/" + section_path.strip("/") + "/"
    name = name or re.sub(r"[^a-z0-9]+", "-", (parts.hostname or "").removeprefix("www.")
                          .split(".")[0].lower()).strip("-")
    path = config_dir() / "sites" / f"{name}.toml"
    if path.exists() and not force:
        raise ConfigError(f"{path} exists (--force replaces it)")
    fetcher = fetcher or Fetcher()
    sources, candidates = discover(base, section_path, fetcher)
    own = [urlsplit(u).path for u in candidates if urlsplit(u).netloc == parts.netloc]
    if not own:
        raise ConfigError(f"{base}: no sitemap or feed with article links found "
                          "(robots.txt Sitemap:, /sitemap.xml, <link rel=alternate> feeds)")
    article_pattern, id_pattern, matched = infer_pattern(own, section_path)
    text = profile_text(name, base, sources, article_pattern, id_pattern)
    raw = tomllib.loads(text)  # what is written must read back
    parser = build_profile(name, raw)
    tested = [_sample(base + p, parser, fetcher) for p in matched[:samples]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    reload()
    return AddReport(name, path, sources, article_pattern, id_pattern, len(matched), tested)


def _sample(url: str, parser, fetcher: Fetcher) -> Sample:
    if not fetcher.allowed(url):
        return Sample(url, None, "disallowed by robots.txt")
    status, ctype, body = fetcher.get(url)
    if status != 200:
        return Sample(url, None, f"HTTP {status}" if status else "unreachable")
    try:
        record = parse_article(decode_html(body, ctype).text, url=url, site=parser).to_dict()
    except ParseError as exc:
        return Sample(url, None, str(exc))
    return Sample(url, record)


# -- check -----------------------------------------------------------------------------------


@dataclass
class CheckReport:
    name: str
    samples: list[Sample]

    def coverage(self) -> dict[str, float]:
        parsed = [s for s in self.samples if s.record is not None]
        if not parsed:
            return {}
        return {name: round(sum(1 for s in parsed if name in s.field_sources()) / len(parsed), 2)
                for name in REPORT_FIELDS}


def check_site(name: str, pages: int = 5, base_url: str | None = None,
               fetcher: Fetcher | None = None) -> CheckReport:
    """Read the profile's discovery sources, fetch up to `pages` article pages and parse them
    with the profile, writing nothing."""
    from crawler.urls import SiteRules

    profile = load_site_profile(name)
    rules = SiteRules.from_profile(profile, base_url)
    fetcher = fetcher or Fetcher()
    urls: list[str] = []
    sources = profile.get("discovery", {})
    for kind in ("news_sitemap", "rss", "listing", "sitemap_index"):
        table = sources.get(kind) or {}
        if not table.get("enabled", True):
            continue
        for path in table.get("paths") or ([table["path"]] if table.get("path") else []):
            urls += _links(rules.absolute(path), kind, fetcher, rules, {**table, "path": path})
    articles = list(dict.fromkeys(u for u in urls if rules.article_id(u) is not None))
    parser = load_profile(name)
    return CheckReport(name, [_sample(rules.fetch_url(u), parser, fetcher)
                              for u in articles[:pages]])


def _listing_links(url: str, body: bytes, listing: dict, fetcher: Fetcher, rules) -> list[str]:
    """Links of a listing and of the following pages its pagination reaches (max_pages)."""
    found, page = [], 1
    while True:
        links = list(discovery.listing_links(body, url))
        found += links
        following = discovery.next_listing_page(listing, page, body, url, links)
        if following is None:
            return found
        url = rules.fetch_url(following)
        if not rules.is_allowed(url):
            return found
        status, _, body = fetcher.get(url)
        if status != 200:
            return found
        page += 1


def _links(url: str, kind: str, fetcher: Fetcher, rules, listing: dict | None = None
           ) -> list[str]:
    status, _, body = fetcher.get(url)
    if status != 200:
        return []
    if kind == "rss":
        return discovery.feed_links(body)
    if kind == "listing":
        return _listing_links(url, body, listing, fetcher, rules)
    found, locs = discovery.sitemap_locs(body)
    if found != "index":
        return locs
    links = []
    for loc in locs[:MAX_SITEMAPS]:
        status, _, child = fetcher.get(rules.fetch_url(loc))
        if status == 200:
            links += discovery.sitemap_locs(child)[1]
    return links
