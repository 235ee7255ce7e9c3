"""A small local news site with an RSS feed and nothing else: no sitemap, no JSON-LD, no
Open Graph or article meta tags, no microdata. Articles at /news/<number>-<slug>.html; the
byline is plain text ("By A and B"), the date a <time> element."""

from __future__ import annotations

from email.utils import format_datetime
from html import escape

from .model import SmallSite, Story, make_stories, slugify


def plain_site(seed: int = 51) -> SmallSite:
    stories = make_stories(seed, {"news": 7}, key=lambda i, title: str(4800 + i * 7))
    return SmallSite("plain", stories, render)


def story_path(story: Story) -> str:
    return f"/news/{story.key}-{slugify(story.title)[:40]}.html"


def render(site: SmallSite, path: str, base: str):
    if path == "/robots.txt":
        return 200, "text/plain", "User-agent: *\nDisallow: /admin/\n", None
    if path == "/":
        items = "".join(f'<li><a href="{story_path(s)}">{escape(s.title)}</a></li>'
                        for s in site.stories)
        return 200, "text/html", _page(base, "Valley Gazette", f"<ul>{items}</ul>"), None
    if path == "/rss.xml":
        items = "".join(f"<item><title>{escape(s.title)}</title><link>{base}{story_path(s)}"
                        f"</link><pubDate>{format_datetime(s.published)}</pubDate></item>"
                        for s in site.stories)
        return 200, "application/rss+xml", (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Valley Gazette</title>'
            f"<link>{base}/</link>{items}</channel></rss>"), None
    for story in site.stories:
        if path == story_path(story):
            return 200, "text/html", _article(story, base), story
    return None


def _page(base: str, title: str, main: str, head: str = "") -> str:
    return f"""<html><head><title>{escape(title)}</title>
<link rel="alternate" type="application/rss+xml" href="/rss.xml">{head}</head>
<body><div id="top"><a href="/">Valley Gazette</a> | <a href="/rss.xml">RSS</a></div>
{main}<div id="bottom">Valley Gazette, 12 Mill Street. Letters to the editor welcome.</div>
</body></html>"""


def _article(story: Story, base: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    names = " and ".join(story.authors)
    main = f"""<article><h1>{escape(story.title)}</h1>
<p class="byline">By {escape(names)}</p>
<p class="dateline"><time datetime="{story.published.isoformat()}">{story.published.day}
{story.published:%B %Y, %H:%M}</time></p>
<div class="text">{paragraphs}</div></article>
<div class="more"><b>More news:</b> <a href="/">front page</a></div>"""
    head = f'<link rel="canonical" href="{base}{story_path(story)}">'
    return _page(base, story.title, main, head)
