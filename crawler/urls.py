"""URL rules of a site profile: which URLs are articles of the section, their identity,
their canonical form, and which hosts may be fetched at all. Pure functions, no Scrapy."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urljoin, urlsplit, urlunsplit

DEFAULT_BASE_URL = "https://www.rp.pl"


@dataclass(frozen=True)
class SiteRules:
    name: str
    base_url: str
    article_pattern: str
    allowed_hosts: tuple[str, ...] = ()
    # The configured base URL as the profile knows it; replaced by `base_url` everywhere
    # so that the same spider can crawl the local replica.
    profile_base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_profile(cls, profile: dict, base_url: str | None = None) -> SiteRules:
        site = profile.get("site", {})
        configured = site.get("base_url", DEFAULT_BASE_URL).rstrip("/")
        effective = (base_url or configured).rstrip("/")
        hosts = {urlsplit(effective).netloc.lower()}
        if effective == configured:
            hosts.update(h.lower() for h in site.get("allowed_hosts", []))
        return cls(
            name=site.get("name", "rp"),
            base_url=effective,
            article_pattern=site["article_pattern"],
            allowed_hosts=tuple(sorted(hosts)),
            profile_base_url=configured,
        )

    @cached_property
    def _article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_pattern)

    @property
    def base_is_public(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return not _is_private_host(host)

    def absolute(self, path_or_url: str) -> str:
        return urljoin(self.base_url + "/", path_or_url)

    def is_allowed(self, url: str) -> bool:
        """Only http(s) on the configured hosts; never file:, data:, or an internal address
        reached from a public site (a page could otherwise point the crawler inward)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        netloc = parts.netloc.lower()
        if netloc not in self.allowed_hosts:
            return False
        if self.base_is_public and _is_private_host(parts.hostname or ""):
            return False
        return True

    def canonicalise(self, url: str) -> str:
        """Scheme and host of the base URL, path without trailing slash; no query, fragment
        or tracking parameters (article pages take none)."""
        parts = urlsplit(self.absolute(url.strip()))
        path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or "/"
        base = urlsplit(self.base_url)
        netloc = parts.netloc.lower()
        if netloc in self.allowed_hosts:
            return urlunsplit((base.scheme, base.netloc, path, "", ""))
        return urlunsplit((parts.scheme, netloc, path, "", ""))

    def article_id(self, url: str) -> str | None:
        """The article id when `url` is an article of the section on an allowed host."""
        absolute = self.absolute(url.strip())
        if not self.is_allowed(absolute):
            return None
        match = self._article_re.match(urlsplit(absolute).path.rstrip("/") or "/")
        return match.group("article_id") if match else None


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
