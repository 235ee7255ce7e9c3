"""A WordPress-like English daily: date permalinks (/world/2025/03/03/slug/), JSON-LD
NewsArticle (ISO dates, authors with URLs, isAccessibleForFree false on paywalled stories),
Yoast-style sitemap index and news sitemap, RSS at /feed/ and /world/feed/, visible dates as
"3 March 2025, 14:05", bylines as links, no paywall marker in the text (paywalled stories
are cut after two paragraphs and end in a subscription box)."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime
from html import escape

from .model import SmallSite, Story, make_stories, slugify

SECTIONS = {"world": 9, "business": 4}


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
    if path == "/":
        return 200, html, _page(base, "The Daily Ledger", _teasers(site.stories, base),
                                feeds=[("/feed/", "The Daily Ledger Feed")]), None
    if path in ("/world/", "/business/"):
        section = path.strip("/")
        return 200, html, _page(base, section.title(), _teasers(site.in_section(section), base),
                                feeds=[(f"{path}feed/", f"{section.title()} Feed")]), None
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
            for s in site.stories)
        return 200, xml, _xml("urlset", urls, news=True), None
    if path == "/about/":
        return 200, html, _page(base, "About", "<p>About the Daily Ledger.</p>"), None
    for story in site.stories:
        if path in (story_path(story), story_path(story).rstrip("/")):
            return 200, html, _article(story, base), story
    return None


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
        for s in stories[:10])
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
