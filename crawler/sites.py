"""Which site is meant when none is named: `[crawl].site` of config/newsmon.toml. Crawls, the
scheduler, `newsmon parse` and article references all take their default from here; what a
site is (addresses, patterns, selectors) is in its profile, config/sites/<name>.toml."""

from __future__ import annotations

from crawler.config import ConfigError, section


def default_site() -> str:
    site = section("crawl").get("site")
    if not site:
        raise ConfigError("no site configured: set [crawl].site in config/newsmon.toml "
                          "(the name of a profile in config/sites/)")
    return str(site)
