"""Article parsers: pure functions from a page's HTML to an ArticleRecord (no Scrapy, no DB).

Public API:
    parse_article(html, url=None, site="rp") -> ArticleRecord
    load_profile(site) -> SiteProfile      (compiled, cached config/sites/<site>.toml)
    ArticleRecord, Image, RelatedLink, ParseError, PARSER_VERSION
"""

from crawler.parsers.article import parse_article
from crawler.parsers.profile import SiteProfile, load_profile
from crawler.parsers.record import PARSER_VERSION, ArticleRecord, Image, ParseError, RelatedLink

__all__ = [
    "PARSER_VERSION",
    "ArticleRecord",
    "Image",
    "ParseError",
    "RelatedLink",
    "SiteProfile",
    "load_profile",
    "parse_article",
]
