"""Two small news sites besides the rp.pl replica, built unlike it so that nothing rp-specific
passes by accident (issue 15): `wp` (WordPress-like: JSON-LD NewsArticle, news sitemap, RSS,
a /world/ section) and `plain` (RSS only, no structured data). Served over real HTTP on
127.0.0.1 by `SiteServer`; `python -m tests.sites wp` serves one by hand. Ground truth:
`site.expected(key)` (title, authors, published_at, body, paywalled)."""

from .model import SmallSite, Story
from .plain import plain_site
from .server import SiteServer
from .wp import wp_site

__all__ = ["SiteServer", "SmallSite", "Story", "plain_site", "wp_site"]
