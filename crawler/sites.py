"""Which site is meant when none is named (`[crawl].site` of the layered configuration,
crawler/config.py), and the few facts about a site that the application shows or reads back
from the user: its display name and how it writes its article ids. Crawls, the scheduler,
`newsmon parse` and article references all take their default from here; what a site is
(addresses, patterns, selectors) is in its profile, sites/<name>.toml."""

from __future__ import annotations

from urllib.parse import urlsplit

from crawler.config import ConfigError, config_layers, load_site_profile, section, site_names
from crawler.urls import article_ref


def default_site() -> str:
    site = section("crawl").get("site")
    if not site:
        raise ConfigError("no site configured: set [crawl].site in newsmon.toml of the user or "
                          "project configuration, or NEWSMON_CRAWL__SITE (the name of a site "
                          "profile, sites/NAME.toml; `newsmon info` shows the layers)")
    return str(site)


def default_sites() -> list[str]:
    """The sites a crawl or the scheduler takes when none is named: `[crawl].sites` when the
    configuration lists several, else `[crawl].site`."""
    listed = section("crawl").get("sites")
    if listed:
        if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
            raise ConfigError("[crawl].sites must be a list of site profile names")
        return list(dict.fromkeys(listed))
    return [default_site()]


def fetch_host(site: str | None, base_url: str | None = None) -> str:
    """The host (host:port) a crawl of `site` talks to: `base_url`, else its profile's."""
    address = base_url or site_table(site).get("base_url") or ""
    return urlsplit(address).netloc.lower() or str(site)


def crawlable_sites() -> list[str]:
    """Every site with a profile in the configuration that can be crawled (a base URL and an
    article pattern; `generic` is a parser model, not a site)."""
    names = []
    for name in site_names(config_layers()):
        site = site_table(name)
        if site.get("base_url") and site.get("article_pattern"):
            names.append(name)
    return names


def site_table(site: str | None = None) -> dict:
    """[site] of a profile (default: the configured site); empty when there is none to read."""
    try:
        return load_site_profile(site or default_site()).get("site") or {}
    except ConfigError:
        return {}


def display_name(site: str | None) -> str:
    """How messages name a site: its profile's `[site].display_name` ("rp.pl"), else its
    profile name; "newsmon" when no site is known."""
    if not site:
        return "newsmon"
    return str(site_table(site).get("display_name") or site)


def id_pattern(site: str | None = None) -> str | None:
    """The profile's `[site].id_pattern`: how the site writes its article ids."""
    return site_table(site).get("id_pattern")


def site_article_ref(text: str, site: str | None = None) -> str:
    """ARTICLE as the archive resolves it: written the way the site (default: the configured
    one) writes its ids, the bare id; anything else, or any reference when no profile can be
    read, as it is (the archive still knows bare ids, URLs and archive ids)."""
    return article_ref(text, id_pattern(site))
