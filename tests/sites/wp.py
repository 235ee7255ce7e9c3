"""A WordPress-like English daily: date permalinks (/world/2025/03/03/slug/), JSON-LD
NewsArticle (ISO dates, authors with URLs, isAccessibleForFree false on paywalled stories),
Yoast-style sitemap index and news sitemap, RSS at /feed/ and /world/feed/, visible dates as
"3 March 2025, 14:05", bylines as links, no paywall marker in the text (paywalled stories
are cut after two paragraphs and end in a subscription box). Listings show ten stories a page
and paginate the WordPress way (/world/page/2/, `<link rel="next">` in the head, page-number
links without rel); the news sitemap and the feeds carry only the newest ten stories, as real
ones carry recent articles only, so older section stories are reachable through page 2+ of
the listing (and the full post sitemap) alone."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import format_datetime
from html import escape

from .model import SmallSite, Story, make_stories, slugify

SECTIONS = {"world": 23, "business": 4}
PER_PAGE = 10
RECENT = 10  # stories in the news sitemap and the feeds


def wp_site(seed: int = 15) -> SmallSite:
    stories = make_stories(seed, SECTIONS, key=lambda i, title: slugify(title),
                           paywalled_every=4)
    return SmallSite("wp", stories, render)


def story_path(story: Story) -> str:
    return f"/{story.section}/{story.published:%Y/%m/%d}/{story.key}/"


def visible_date(dt: datetime) -> str:
    return f"{dt.day} {dt:%B %Y, %H:%M}"


def render(site: SmallSite, path: str, base: str):
    html, xml, rss = "text/html; charset=UTF-8", "application/xml; charset=UTF-8", \
        "application/rss+xml; charset=UTF-8"
    if path == "/robots.txt":
        return 200, "text/plain", f"User-agent: *\nDisallow: /wp-admin/\n\n" \
            f"Sitemap: {base}/sitemap_index.xml\n", None
    listing = _listing_page(site, path)
    if listing is not None:
        prefix, section, n = listing
        stories = site.stories if section is None else site.in_section(section)
        pages = max(1, -(-len(stories) // PER_PAGE))
        if n > pages:
            return None
        title = "The Daily Ledger" if section is None else section.title()
        feed = f"{prefix}feed/"
        return 200, html, _page(
            base, title, _teasers(stories[(n - 1) * PER_PAGE:n * PER_PAGE], base)
            + _pagination(base, prefix, n, pages),
            feeds=[(feed, "The Daily Ledger Feed" if section is None else f"{title} Feed")],
            head=_page_links(base, prefix, n, pages)), None
    if path == "/feed/":
        return 200, rss, _rss(site.stories, base), None
    if path in ("/world/feed/", "/business/feed/"):
        return 200, rss, _rss(site.in_section(path.split("/")[1]), base), None
    if path == "/sitemap_index.xml":
        children = "".join(f"<sitemap><loc>{base}/{name}</loc></sitemap>"
                           for name in ("post-sitemap.xml", "page-sitemap.xml",
                                        "news-sitemap.xml"))
        return 200, xml, _xml("sitemapindex", children), None
    if path == "/post-sitemap.xml":
        urls = "".join(f"<url><loc>{base}{story_path(s)}</loc><lastmod>"
                       f"{s.last_modified().isoformat()}</lastmod></url>" for s in site.stories)
        return 200, xml, _xml("urlset", urls), None
    if path == "/page-sitemap.xml":
        return 200, xml, _xml("urlset", f"<url><loc>{base}/about/</loc></url>"), None
    if path == "/news-sitemap.xml":
        urls = "".join(
            f"<url><loc>{base}{story_path(s)}</loc><news:news><news:publication><news:name>"
            f"The Daily Ledger</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{s.published.isoformat()}</news:publication_date>"
            f"<news:title>{escape(s.title)}</news:title></news:news></url>"
            for s in site.stories[:RECENT])
        return 200, xml, _xml("urlset", urls, news=True), None
    if path == "/about/":
        return 200, html, _page(base, "About", "<p>About the Daily Ledger.</p>"), None
    for story in site.stories:
        if path in (story_path(story), story_path(story).rstrip("/")):
            return 200, html, _article(story, base), story
    return None


def _listing_page(site: SmallSite, path: str) -> tuple[str, str | None, int] | None:
    """(listing prefix, section or None for the home page, page number) of a listing path:
    /, /world/, /world/page/2/ (page 1 has no /page/1/ address here)."""
    sections = "|".join(SECTIONS)
    match = re.fullmatch(rf"/(?:({sections})/)?(?:page/(\d+)/?)?", path)
    if match is None or match.group(2) in ("0", "1"):
        return None
    section = match.group(1)
    prefix = f"/{section}/" if section else "/"
    return prefix, section, int(match.group(2) or 1)


def _page_url(base: str, prefix: str, n: int) -> str:
    return f"{base}{prefix}" if n == 1 else f"{base}{prefix}page/{n}/"


def _page_links(base: str, prefix: str, n: int, pages: int) -> str:
    # As Yoast writes them in the head.
    links = f'<link rel="prev" href="{_page_url(base, prefix, n - 1)}">' if n > 1 else ""
    if n < pages:
        links += f'<link rel="next" href="{_page_url(base, prefix, n + 1)}">'
    return links


def _pagination(base: str, prefix: str, n: int, pages: int) -> str:
    # the_posts_pagination(): numbered links, Previous/Next without rel.
    if pages == 1:
        return ""
    parts = []
    if n > 1:
        parts.append(f'<a class="prev page-numbers" href="{_page_url(base, prefix, n - 1)}">'
                     "Previous</a>")
    for i in range(1, pages + 1):
        parts.append(f'<span aria-current="page" class="page-numbers current">{i}</span>'
                     if i == n else
                     f'<a class="page-numbers" href="{_page_url(base, prefix, i)}">{i}</a>')
    if n < pages:
        parts.append(f'<a class="next page-numbers" href="{_page_url(base, prefix, n + 1)}">'
                     "Next</a>")
    return ('<nav class="navigation pagination" aria-label="Posts"><div class="nav-links">'
            + "".join(parts) + "</div></nav>")


def _xml(root: str, inner: str, news: bool = False) -> str:
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><{root} '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{inner}</{root}>')


def _rss(stories: list[Story], base: str) -> str:
    items = "".join(
        f"<item><title>{escape(s.title)}</title><link>{base}{story_path(s)}</link>"
        f"<pubDate>{format_datetime(s.published)}</pubDate>"
        f"<dc:creator><![CDATA[{s.authors[0]}]]></dc:creator>"
        f"<description><![CDATA[{s.paragraphs[0][:120]}]]></description></item>"
        for s in stories[:RECENT])
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>The Daily Ledger'
            f'</title><link>{base}/</link>{items}</channel></rss>')


def _page(base: str, title: str, main: str, feeds=(), head: str = "",
          body_class: str = "home") -> str:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" title="{t}" '
                    f'href="{base}{href}">' for href, t in feeds)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="UTF-8"><title>{escape(title)} – The Daily Ledger</title>
<meta name="generator" content="WordPress 6.4.3">{links}{head}
<link rel="stylesheet" href="{base}/wp-content/themes/ledger/style.css"></head>
<body class="{body_class}"><header class="site-header"><p class="site-title">
<a href="{base}/">The Daily Ledger</a></p><nav class="main-navigation"><ul>
<li><a href="{base}/world/">World</a></li><li><a href="{base}/business/">Business</a></li>
<li><a href="{base}/about/">About</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="main" class="site-main">{main}</main>
<aside id="secondary" class="widget-area"><section class="widget"><h2 class="widget-title">
Newsletter</h2><p>Get the Ledger in your inbox every morning.</p></section></aside></div>
<footer class="site-footer"><p>© 2025 The Daily Ledger. Proudly powered by WordPress.</p>
</footer></body></html>"""


def _teasers(stories: list[Story], base: str) -> str:
    return "".join(f'<article class="post"><h2 class="entry-title"><a href="{base}'
                   f'{story_path(s)}" rel="bookmark">{escape(s.title)}</a></h2>'
                   f'<div class="entry-summary"><p>{escape(s.paragraphs[0][:100])}…</p></div>'
                   f'</article>' for s in stories)


def _article(story: Story, base: str) -> str:
    url = base + story_path(story)
    ld = {
        "@context": "https://schema.org", "@graph": [
            {"@type": "WebPage", "@id": url, "url": url, "name": story.title},
            {"@type": "NewsArticle", "@id": f"{url}#article", "headline": story.title,
             "datePublished": story.published.isoformat(),
             "dateModified": story.last_modified().isoformat(),
             "author": [{"@type": "Person", "name": a,
                         "url": f"{base}/author/{slugify(a)}/"} for a in story.authors],
             "articleSection": story.section.title(),
             "isAccessibleForFree": story.free,
             "publisher": {"@type": "Organization", "name": "The Daily Ledger"},
             "mainEntityOfPage": {"@id": url}},
        ]}
    byline = ", ".join(f'<span class="author vcard"><a class="url fn n" href="{base}/author/'
                       f'{slugify(a)}/" rel="author">{escape(a)}</a></span>'
                       for a in story.authors)
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in story.served_paragraphs)
    # Furniture inside the content, as WordPress themes and plugins put it there: a photo
    # with its caption, an ad, a related-posts box (none of it is article text).
    paragraphs = paragraphs.replace("</p>", '</p><figure class="wp-block-image"><img src="'
                                    f'{base}/wp-content/uploads/photo.jpg" alt=""><figcaption>'
                                    "Delegates arrive for the talks. Photo: Agency</figcaption>"
                                    "</figure>", 1)
    if len(story.served_paragraphs) > 3:
        paragraphs = paragraphs.replace("</p><p>", '</p><div class="ad-slot">Advertisement'
                                        "</div><p>", 1)
    related = ('<div class="jp-relatedposts"><h3 class="jp-relatedposts-headline">Related'
               '</h3><ul><li><a href="/business/">Markets close higher on trade hopes</a>'
               "</li><li><a href=\"/world/\">Envoys meet again next week</a></li></ul></div>")
    wall = "" if story.free else (
        '<div class="subscriber-wall"><h3>This story is for subscribers</h3><p>Subscribe '
        'from £1 a week to keep reading.</p><a class="button" href="/subscribe/">Subscribe'
        "</a></div>")
    classes = f"post type-post status-publish format-standard category-{story.section}"
    main = f"""<article class="{classes}">
<header class="entry-header"><h1 class="entry-title">{escape(story.title)}</h1>
<div class="entry-meta"><span class="posted-on">{visible_date(story.published)}</span>
<span class="byline"> by {byline}</span></div></header>
<div class="entry-content">{paragraphs}{wall}{related}</div>
<footer class="entry-footer"><div class="share-buttons">Share: <a href="#">Facebook</a>
<a href="#">X</a></div></footer></article>
<nav class="post-navigation"><h2>Post navigation</h2></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">No comments yet</h2></div>"""
    head = (f'<link rel="canonical" href="{url}"><meta property="og:type" content="article">'
            f'<meta property="og:title" content="{escape(story.title)}">'
            f'<script type="application/ld+json" class="yoast-schema-graph">'
            f'{json.dumps(ld)}</script>')
    return _page(base, story.title, main, feeds=[("/feed/", "The Daily Ledger Feed")],
                 head=head, body_class="post-template-default single single-post")
