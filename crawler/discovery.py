"""Link extraction from discovery sources (listing pages, sitemaps, RSS). Pure functions over
bytes, so that the spider stays a navigator and these can be tested without Scrapy."""

from __future__ import annotations

from collections.abc import Iterator

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
