"""URL rules of a site profile: which URLs are articles of the section, their identity,
their canonical form, and which hosts may be fetched at all. Pure functions, no Scrapy.

Two bases are kept apart. The *public base* (the profile's `base_url`) names the site: an
article's identity URL is always expressed on it, whatever host served the page, so the
archive of a site reads the same whether the crawl talked to the site itself, to the
project's replica or to a mirror. The *fetch base* (`--base-url`, else the public base) is
where every request goes. Every host of the profile and the fetch host denote this site:
a link to any of them is followed, and fetched from the fetch base (same path).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from crawler.config import ConfigError

# URLs remembered per SiteRules and question: the few an article page's handling asks about
# again and again. (Not a whole discovery's worth: a crawl's memory must not grow with its
# articles, and each source lists them in a cycle that a smaller LRU would miss anyway.)
_URL_MEMO = 256


def _memoized(method):
    """Remember `method(url)` per SiteRules (immutable, so the answer cannot change): an
    article page's URL and canonical link are each asked about several times (its id, its
    identity and fetch URLs, whether it names the article requested)."""
    slot = "_memo_" + method.__name__

    @functools.wraps(method)
    def remembered(self, url: str):
        memo = self.__dict__.get(slot)
        if memo is None:  # frozen dataclass: set like a cached_property, not by setattr
            memo = self.__dict__[slot] = lru_cache(maxsize=_URL_MEMO)(
                functools.partial(method, self))
        return memo(url)

    return remembered


@dataclass(frozen=True)
class SiteRules:
    name: str
    # The fetch base: where the crawl sends its requests (the override, else the public base).
    base_url: str
    # The public base: the site's own address, on which identity URLs are expressed.
    public_base_url: str
    article_pattern: str
    # Hosts that may be fetched: the override's alone, else the profile's hosts.
    allowed_hosts: tuple[str, ...] = ()
    # Hosts that denote this site (the profile's and the fetch host): links to them are the
    # site's own, whichever host the crawl talks to.
    site_hosts: tuple[str, ...] = ()
    # How an article id appears in the last path segment of any section (`art<digits>`).
    id_pattern: str | None = None

    @classmethod
    def from_profile(cls, profile: dict, base_url: str | None = None) -> SiteRules:
        """The rules of a site profile; a profile that cannot be crawled (no name, base URL
        or article pattern in its [site] table) is a ConfigError."""
        site = profile.get("site", {})
        missing = [key for key in ("name", "base_url", "article_pattern") if not site.get(key)]
        if missing:
            raise ConfigError(f"site profile {site.get('name') or '?'!r} cannot be crawled: "
                              f"[site] has no {', '.join(missing)}")
        public = site["base_url"].rstrip("/")
        fetch = (base_url or public).rstrip("/")
        profile_hosts = {urlsplit(public).netloc.lower()}
        profile_hosts.update(h.lower() for h in site.get("allowed_hosts", []))
        fetch_host = urlsplit(fetch).netloc.lower()
        # An override is the only host the crawl talks to: a page of a mirror linking (or a
        # redirect pointing) to the real site must not take the crawl there.
        allowed = {fetch_host} if fetch != public else profile_hosts
        for label, url in (("base URL", fetch), ("the profile's base_url", public)):
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ConfigError(f"{label} must be an http(s) address with a host: {url!r}")
        rules = cls(
            name=site["name"],
            base_url=fetch,
            public_base_url=public,
            article_pattern=site["article_pattern"],
            allowed_hosts=tuple(sorted(allowed)),
            site_hosts=tuple(sorted(profile_hosts | {fetch_host})),
            id_pattern=site.get("id_pattern"),
        )
        # Compiled now, so that a bad pattern is a configuration error, not a failed callback.
        try:
            named_id = "article_id" in rules._article_re.groupindex
            rules._id_re  # noqa: B018
        except re.error as exc:
            raise ConfigError(f"site profile {rules.name!r}: invalid pattern: {exc}") from None
        if not named_id:
            raise ConfigError(f"site profile {rules.name!r}: article_pattern needs a group "
                              "named article_id")
        return rules

    @cached_property
    def _article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_pattern)

    @cached_property
    def _id_re(self) -> re.Pattern[str] | None:
        return re.compile(self.id_pattern) if self.id_pattern else None

    @cached_property  # asked for every URL a crawl looks at
    def base_is_public(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return not _is_private_host(host)

    @_memoized
    def absolute(self, path_or_url: str) -> str:
        """A path made absolute on the fetch base (absolute URLs are returned as they are)."""
        return urljoin(self.base_url + "/", path_or_url)

    def is_allowed(self, url: str) -> bool:
        """May `url` be fetched? Only http(s) on the fetch hosts; never file:, data:, or an
        internal address reached from a public site (a page could otherwise point the
        crawler inward; only an explicit --base-url may name one)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        netloc = parts.netloc.lower()
        if netloc not in self.allowed_hosts:
            return False
        if self.base_is_public and _is_private_host(parts.hostname or ""):
            return False
        return True

    def is_site_url(self, url: str) -> bool:
        """Does `url` (absolute) name a page of this site, on any of its hosts? A public
        site's pages never make an internal address one of its own."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in self.site_hosts:
            return False
        return not (self.base_is_public and _is_private_host(parts.hostname or ""))

    @_memoized
    def identity_url(self, url: str) -> str:
        """The canonical form a URL is archived under: a URL of the site on the public base,
        path without trailing slash or duplicate slashes, no query, fragment or tracking
        parameters (article pages take none). Other hosts keep their own scheme and host."""
        absolute = self.absolute(url.strip())
        parts = urlsplit(absolute)
        path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or "/"
        if self.is_site_url(absolute):
            public = urlsplit(self.public_base_url)
            return urlunsplit((public.scheme, public.netloc, path, "", ""))
        return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))

    @_memoized
    def fetch_url(self, url: str) -> str:
        """Where to request `url`: a URL of the site (any of its hosts) goes to the fetch base
        with the same path and query; anything else is returned as it is, for `is_allowed`
        to refuse."""
        absolute = self.absolute(url.strip())
        if not self.is_site_url(absolute):
            return absolute
        parts = urlsplit(absolute)
        fetch = urlsplit(self.base_url)
        return urlunsplit((fetch.scheme, fetch.netloc, parts.path or "/", parts.query, ""))

    @_memoized
    def article_id(self, url: str) -> str | None:
        """The article id when `url` is an article of the section on one of the site's
        hosts (not necessarily a host the crawl may talk to: see `fetch_url`)."""
        absolute = self.absolute(url.strip())
        if not self.is_site_url(absolute):
            return None
        match = self._article_re.match(urlsplit(absolute).path.rstrip("/") or "/")
        return match.group("article_id") if match else None

    @_memoized
    def site_article_id(self, url: str) -> str | None:
        """The article id of `url` in any section of the site (a canonical link may name the
        article under another section than the one that lists it: /swiat/art…)."""
        section_id = self.article_id(url)
        if section_id is not None or self._id_re is None:
            return section_id
        absolute = self.absolute(url.strip())
        if not self.is_site_url(absolute):
            return None
        last_segment = (urlsplit(absolute).path.rstrip("/") or "/").rsplit("/", 1)[-1]
        match = self._id_re.match(last_segment)
        return _named_id(match) if match else None

    def article_url(self, article_id: str, fetched_url: str,
                    canonical_link: str | None) -> tuple[str, str | None]:
        """The URL to archive article `article_id` under, fetched at `fetched_url` (any host
        of the site) with the page's `canonical_link`; and why that link was not taken, when
        it was not. The canonical link wins when it names this article on the site, in any
        section; else the fetched URL (in identity form) is kept."""
        fetched = self.identity_url(fetched_url)
        if not canonical_link:
            return fetched, None
        if not self.is_site_url(self.absolute(canonical_link)):
            why = "on another host"
        else:
            named = self.site_article_id(canonical_link)
            if named == article_id:
                return self.identity_url(canonical_link), None
            why = f"names article {named}" if named else "not an article URL"
        return fetched, f"canonical link ignored ({why}): {canonical_link}"


def article_ref(ref: str, id_pattern: str | None) -> str:
    """An article reference as the archive resolves it: `ref` written the way the site writes
    its ids (the profile's `id_pattern`, e.g. `art40671561`) becomes the bare id; anything
    else (a bare id, a URL, an archive id) is returned as it is."""
    match = re.fullmatch(id_pattern, ref.strip()) if id_pattern else None
    return _named_id(match) if match else ref


def _named_id(match: re.Match[str]) -> str:
    # The group named article_id, else the last group (a profile's pattern may not name it).
    return match.groupdict().get("article_id") or match.group(match.lastindex or 0)


@lru_cache(maxsize=256)  # a crawl sees a few hosts, in every URL it looks at
def _is_private_host(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )
