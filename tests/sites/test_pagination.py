"""Listing pagination beyond rp.pl's `?page=N` (issue 15): the WordPress-like site paginates
its sections as /world/page/2/ with `<link rel="next">`, and only ten stories are in its news
sitemap and feeds, so a crawl that reaches every section story has followed the listing's
pages. Real crawls (`newsmon crawl`) of profiles whose only source is the listing."""

from __future__ import annotations

import json

import pytest

from crawler import discovery
from crawler.onboard import Sources, detect_pagination, profile_text
from tests.crawl.helpers import FAST, newsmon
from tests.sites import SiteServer, wp_site
from tests.sites.test_many_sites import current_records

WORLD = r"^/world/\d{4}/\d{1,2}/\d{1,2}/(?P<article_id>[^/]+)$"


@pytest.mark.slow
@pytest.mark.parametrize(("pagination", "max_pages", "pages_read"), [
    ("rel_next", 5, 3),            # every page, and no probe past the last one
    ("{path}page/{n}/", 2, 2),     # the template, stopped at max_pages
    ("rel_next", 1, 1),            # no pagination: the first page's ten only
])
def test_crawl_follows_the_listing_pages(tmp_path, sqlite_url, pagination, max_pages,
                                         pages_read):
    config = tmp_path / "config"
    (config / "sites").mkdir(parents=True)
    with SiteServer(wp_site()) as server:
        text = profile_text("wp", server.base_url,
                            Sources(listing="/world/", pagination=pagination), WORLD, None)
        text = text.replace("max_pages = 5", f"max_pages = {max_pages}")
        (config / "sites" / "wp.toml").write_text(text, encoding="utf-8")
        proc = newsmon("crawl", "--site", "wp", "--db", sqlite_url, "--json", *FAST,
                       env={"NEWSMON_CONFIG_DIR": str(config)}, timeout=180)
        requested = list(server.requests)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads(proc.stdout.splitlines()[-1])
    assert run["status"] == "completed", run
    listing_pages = [p for p in requested if not p.startswith("/world/20")
                     and p != "/robots.txt"]
    expected_pages = ["/world/"] + [f"/world/page/{n}/" for n in range(2, pages_read + 1)]
    assert listing_pages == expected_pages
    world = server.site.in_section("world")
    assert len(world) > 20  # three listing pages of ten
    assert set(current_records(sqlite_url)["wp"]) == {s.key for s in world[:10 * pages_read]}


def page(head: str = "", body: str = "") -> bytes:
    return f"<html><head>{head}</head><body>{body}</body></html>".encode()


@pytest.mark.parametrize(("html", "found"), [
    (page(head='<link rel="next" href="/world/page/2/">'), ("rel_next", None)),
    (page(body='<a rel="nofollow next" href="?page=2">Older</a>'), ("rel_next", None)),
    (page(body='<a href="/world/page/2/">2</a>'), ("{path}page/{n}/", None)),
    (page(body='<a href="/world/2/">2</a>'), ("{path}{n}/", None)),
    (page(body='<a href="/world/?paged=2">2</a>'), ("query", "paged")),
    (page(body='<a href="/world/2025/03/03/story/">A story</a>'), (None, None)),
])
def test_pagination_detected_on_the_listing(html, found):
    assert detect_pagination(html, "http://x.test/world/", "/world/") == found


def test_next_listing_page_needs_the_link_to_its_successor():
    listing = {"path": "/world/", "pagination": "{path}page/{n}/", "max_pages": 5}
    html = page(body='<a href="/world/page/3/">3</a>')
    links = list(discovery.listing_links(html, "http://x.test/world/page/2/"))
    assert discovery.next_listing_page(listing, 2, html, "http://x.test/world/page/2/",
                                       links) == "/world/page/3/"
    # Page 3 does not link page 4 (it is the last): no request for it.
    assert discovery.next_listing_page(listing, 3, html, "http://x.test/world/page/3/",
                                       links) is None
    # rp.pl's query pagination as before.
    rp = {"path": "/dyplomacja", "page_param": "page", "max_pages": 5}
    assert discovery.next_listing_page(rp, 1, b"", "http://x.test/dyplomacja",
                                       ["http://x.test/dyplomacja?page=2"]) == \
        "/dyplomacja?page=2"
    assert discovery.pagination_problem({"pagination": "{path}page/"}) is not None
    assert discovery.pagination_problem({"pagination": "{path}p{x}/{n}"}) is not None
    assert discovery.pagination_problem({"pagination": "{path}page/{n}/"}) is None
