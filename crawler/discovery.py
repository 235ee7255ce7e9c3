"""Link extraction from discovery sources (listing pages, sitemaps, RSS). Pure functions over
bytes, so that the spider stays a navigator and these can be tested without Scrapy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

_XML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, recover=True,
                                   huge_tree=False)


def listing_links(html: bytes | str, base_url: str) -> Iterator[str]:
    """Every href on a listing page, made absolute; the caller keeps article URLs only, so a
    redesign of the listing cards does not stop discovery."""
    if not html:
        return
    doc = lxml.html.fromstring(html, base_url=base_url)
    doc.make_links_absolute(base_url, resolve_base_href=True, handle_failures="discard")
    for element in doc.iter("a"):
        href = element.get("href")
        if href:
            yield href


def _xml_root(data: bytes):
    if not data or not data.strip():
        return None
    try:
        return lxml.etree.fromstring(data, parser=_XML_PARSER)
    except lxml.etree.XMLSyntaxError:
        return None


def sitemap_locs(data: bytes) -> tuple[str, list[str]]:
    """(kind, locations) of a sitemap: kind is 'index' for a sitemap index, else 'urlset'."""
    root = _xml_root(data)
    if root is None:
        return "invalid", []
    kind = "index" if lxml.etree.QName(root).localname == "sitemapindex" else "urlset"
    locs = [
        (el.text or "").strip()
        for el in root.iter("{*}loc", "loc")
        if (el.text or "").strip()
    ]
    return kind, locs


def feed_links(data: bytes) -> list[str]:
    """Item links of an RSS 2.0 or Atom feed."""
    root = _xml_root(data)
    if root is None:
        return []
    links: list[str] = []
    for item in root.iter("item", "{*}entry"):
        for link in item.iter("link", "{*}link"):
            href = (link.text or "").strip() or link.get("href", "").strip()
            if href:
                links.append(href)
                break
    return links


def next_links(html: bytes | str, base_url: str) -> list[str]:
    """hrefs of `<link rel="next">` (Yoast and most SEO plugins) and `<a rel="next">`, made
    absolute; rel is a list of tokens ("next nofollow")."""
    if not html:
        return []
    doc = lxml.html.fromstring(html, base_url=base_url)
    found = []
    for element in doc.iter("link", "a"):
        href = (element.get("href") or "").strip()
        if href and "next" in (element.get("rel") or "").lower().split():
            found.append(urljoin(base_url, href))
    return list(dict.fromkeys(found))


def next_listing_page(listing: dict, page: int, html: bytes | str, page_url: str,
                      links: list[str]) -> str | None:
    """Where listing page `page + 1` is (a path, or a URL as the page gives it), or None at
    `max_pages` or when the page does not link its successor, so a crawl never probes past the
    last page. `links` are the page's hrefs (listing_links). The profile's `pagination` says
    how the site numbers its pages: "query" (the default: `?page_param=N`, rp.pl), "rel_next"
    (follow `rel="next"`, whatever its address), or a path template with `{path}` (the
    listing's path) and `{n}` ("{path}page/{n}/", WordPress)."""
    if page >= int(listing.get("max_pages", 1)):
        return None
    mode = listing.get("pagination", "query")
    if mode == "rel_next":
        found = next_links(html, page_url)
        return found[0] if found else None
    if mode == "query":
        param = listing.get("page_param", "page")
        wanted = re.compile(rf"[?&]{re.escape(param)}={page + 1}(?:&|$)")
        if any(wanted.search(u) for u in links):
            return f"{listing['path']}?{param}={page + 1}"
        return None
    target = mode.format(path=listing["path"], n=page + 1)
    wanted_path = urlsplit(urljoin(page_url, target)).path.rstrip("/")
    if any(urlsplit(u).path.rstrip("/") == wanted_path
           for u in [*links, *next_links(html, page_url)]):
        return target
    return None


def pagination_problem(listing: dict) -> str | None:
    """What is wrong with a listing's `pagination` setting, or None."""
    mode = listing.get("pagination", "query")
    if mode in ("query", "rel_next"):
        return None
    if not isinstance(mode, str) or "{n}" not in mode:
        return (f"listing pagination must be \"query\", \"rel_next\" or a path template "
                f"with {{n}}, not {mode!r}")
    try:
        mode.format(path="/", n=2)
    except (KeyError, IndexError, ValueError):
        return f"listing pagination {mode!r}: only {{path}} and {{n}} may be used"
    return None
