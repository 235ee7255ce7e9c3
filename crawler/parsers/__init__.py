"""Article parsers: pure functions from a page's HTML to an ArticleRecord (no Scrapy, no DB).

Public API:
    parse_article(html, url=None, site=None) -> ArticleRecord
        html: str or bytes (bytes decoded as in a crawl, see decode.py);
        url: where the page was fetched (default: its canonical URL);
        site: a site profile, sites/<site>.toml ("rp", "generic", ...; default: the
        configured site, [crawl].site of the layered configuration, crawler/config.py).
        Raises ParseError (not an article page: empty, binary, JSON, plain text, no content)
        and crawler.config.ConfigError (unknown or broken profile).
    load_profile(site) -> SiteProfile      (compiled once per process, cached)
    build_profile(name, toml_dict) -> SiteProfile   (a profile from a dict, e.g. in tests)
    ArticleRecord, Image, RelatedLink, ParseError, PARSER_VERSION

Layout:
    decode.py    bytes to text (BOM, charset declarations, Polish fallbacks), shared with crawls
    document.py  the one lxml parse, head metadata (meta tags, canonical, JSON-LD), truncation
    page.py      what the field extractors share: scope, selector lookups, layout signature, sources
    article.py   ArticlePage: identity, headline, lead, authors, tags; assembles the record
    dates.py     publication and update dates
    paywall.py   full copy, preview or cut-off page; paywall flag and percentage
    body.py      which copy is the body, its blocks and read-more cards
    images.py    the lead image (URL, caption, credit)
    generic.py   main-text extraction (trafilatura) when no container is recognised
    profile.py   [selectors]/[labels]/[patterns]/[body]/[paywall] of a site profile, compiled
    text.py      whitespace, visible text of an element, dates

Site specifics live in the profile, not here: selectors per template generation, visible
labels ("Publikacja:"), text patterns (dates, "Pozostało N% artykułu"), noise blocks and
paywall signals. A new template or site is a config change; see config/sites/rp.toml.
"""

from crawler.parsers.article import parse_article
from crawler.parsers.profile import SiteProfile, build_profile, load_profile
from crawler.parsers.record import PARSER_VERSION, ArticleRecord, Image, ParseError, RelatedLink

__all__ = [
    "PARSER_VERSION",
    "ArticleRecord",
    "Image",
    "ParseError",
    "RelatedLink",
    "SiteProfile",
    "build_profile",
    "load_profile",
    "parse_article",
]
