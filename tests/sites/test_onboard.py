"""`newsmon sites add` / `check` as library calls (crawler/onboard.py) against the two test
sites over real HTTP: what is discovered, the inferred article URL pattern, the profile
written into the configuration directory in effect, and the field sources it reports."""

from __future__ import annotations

import re
import tomllib

import pytest

from crawler import config
from crawler.onboard import add_site, check_site, infer_pattern
from crawler.spiders.site import politeness_settings, source_paths
from crawler.urls import SiteRules
from tests.sites import SiteServer, plain_site, wp_site
from tests.sites import plain as plain_design
from tests.sites import wp as wp_design


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSMON_CONFIG_DIR", str(tmp_path))
    config.reload()
    yield tmp_path
    config.reload()


def test_wordpress_like_site_with_a_section(config_dir):
    with SiteServer(wp_site()) as server:
        report = add_site(server.base_url, name="wp", section_path="/world/")
        checked = check_site("wp", pages=40)
    assert report.path == config_dir / "sites" / "wp.toml"
    profile = tomllib.loads(report.path.read_text(encoding="utf-8"))
    assert profile["site"]["base_url"] == server.base_url
    rules = SiteRules.from_profile(profile)
    site = server.site
    # Every /world/ story is an article of the section, by its slug; other sections are not.
    for story in site.stories:
        url = server.base_url + wp_design.story_path(story)
        expected = story.key if story.section == "world" else None
        assert rules.article_id(url) == expected, url
    assert rules.article_id(server.base_url + "/world/") is None
    assert rules.article_id(server.base_url + "/about/") is None
    found = report.sources
    assert found.news_sitemaps == [server.base_url + "/news-sitemap.xml"]
    assert set(found.feeds) == {server.base_url + "/feed/", server.base_url + "/world/feed/"}
    assert found.listing == "/world/"
    # The section's listing paginates with rel="next": older stories are on page 2+ alone.
    assert profile["discovery"]["listing"] == {"path": "/world/", "pagination": "rel_next",
                                               "max_pages": 5}
    assert [path for path, _ in source_paths(profile["discovery"], "rss")] == \
        ["/feed/", "/world/feed/"]
    # Title and dates from JSON-LD, the byline from its links, the body by extraction.
    for sample in report.samples:
        sources = sample.field_sources()
        assert sources["title"] == "jsonld" and sources["published_at"] == "jsonld", sources
        assert sources["authors"] == "selector" and sources["body"] == "fallback"
    # All of them, through the listing's pages (the news sitemap and feeds carry ten).
    assert len(checked.samples) == len(site.in_section("world")) > 20
    assert checked.coverage()["title"] == checked.coverage()["body"] == 1.0
    paywalled = {s.url for s in checked.samples if s.record["paywalled"]}
    assert paywalled == {server.base_url + wp_design.story_path(s)
                         for s in site.in_section("world") if not s.free}


def test_rss_only_site_without_structured_data(config_dir):
    with SiteServer(plain_site()) as server:
        report = add_site(server.base_url, name="plain")
    assert report.sources.feeds == [server.base_url + "/rss.xml"]
    assert report.sources.news_sitemaps == report.sources.sitemaps == []
    rules = SiteRules.from_profile(tomllib.loads(report.path.read_text(encoding="utf-8")))
    for story in server.site.stories:
        assert rules.article_id(server.base_url + plain_design.story_path(story)) == story.key
    # An id written as the site writes it in another section is still found.
    assert rules.site_article_id(server.base_url + "/archive/4807-x.html") == "4807"
    for sample in report.samples:
        sources = sample.field_sources()
        assert not {"jsonld", "meta"} & set(sources.values()), sources
        assert sources["published_at"] == "visible" and sources["authors"] == "selector"


def test_add_refuses_to_overwrite_and_reports_a_site_without_sources(config_dir):
    with SiteServer(plain_site()) as server:
        add_site(server.base_url, name="plain")
        with pytest.raises(config.ConfigError, match="exists"):
            add_site(server.base_url, name="plain")
        server.site.render = lambda site, path, base: None  # every page 404
        with pytest.raises(config.ConfigError, match="no sitemap or feed"):
            add_site(server.base_url, name="empty")


@pytest.mark.parametrize(("paths", "section", "pattern", "ids"), [
    # rp.pl: the id inside the last segment, after a literal prefix the samples share.
    (["/dyplomacja/art40671561-a-b", "/dyplomacja/art42016502-c", "/dyplomacja/art44186001-d"],
     None, None, ["40671561", "42016502", "44186001"]),
    # A numeric id segment of its own beside a slug.
    (["/story/1234/some-title", "/story/98765/other", "/story/4321/third"], None,
     r"^/story/(?P<article_id>\d+)/[^/]+$", ["1234", "98765", "4321"]),
    # The most common shape wins; a section narrows the samples.
    (["/world/2025/03/03/a/", "/world/2025/03/04/b/", "/sport/2025/03/04/c/", "/about/"],
     "/world/", r"^/world/\d{4}/\d{1,2}/\d{1,2}/(?P<article_id>[^/]+)$", ["a", "b"]),
])
def test_infer_pattern(paths, section, pattern, ids):
    inferred, _, matched = infer_pattern(paths, section)
    if pattern is not None:
        assert inferred == pattern
    found = [re.match(inferred, p.rstrip("/")).group("article_id") for p in matched]
    assert found == ids


def test_politeness_table_maps_to_settings():
    profile = {"site": {"name": "x"}, "politeness": {"download_delay": 3}}
    assert politeness_settings(profile) == {"DOWNLOAD_DELAY": 3}
    with pytest.raises(config.ConfigError, match="unknown"):
        politeness_settings({"site": {"name": "x"}, "politeness": {"delay": 3}})
