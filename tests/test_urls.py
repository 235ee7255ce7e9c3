"""Site URL rules: what is an article of the section, its identity, and what may be fetched."""

from __future__ import annotations

import pytest

from crawler.config import load_site_profile
from crawler.urls import SiteRules


@pytest.fixture
def rp():
    return SiteRules.from_profile(load_site_profile("rp"))


@pytest.fixture
def local():
    return SiteRules.from_profile(load_site_profile("rp"), base_url="http://127.0.0.1:8000")


def test_article_ids_only_for_the_section_on_allowed_hosts(rp):
    assert rp.article_id("/dyplomacja/art40671561-sekretarz-generalny") == "40671561"
    assert rp.article_id("https://www.rp.pl/dyplomacja/art40671561-x?utm_source=fb") == "40671561"
    assert rp.article_id("https://rp.pl/dyplomacja/art40671561-x/") == "40671561"
    assert rp.article_id("/polityka/art40671561-x") is None  # another section
    assert rp.article_id("https://historia.rp.pl/dyplomacja/art40671561-x") is None
    assert rp.article_id("https://evil.example/dyplomacja/art40671561-x") is None
    assert rp.article_id("/dyplomacja") is None


def test_identity_form_drops_query_fragment_and_trailing_slash(rp):
    variants = [
        "https://www.rp.pl/dyplomacja/art40671561-slug?utm_source=x&utm_medium=y",
        "https://www.rp.pl/dyplomacja/art40671561-slug#komentarze",
        "https://www.rp.pl/dyplomacja/art40671561-slug/",
        "https://WWW.RP.PL/dyplomacja/art40671561-slug",
        "/dyplomacja/art40671561-slug",
    ]
    assert {rp.identity_url(v) for v in variants} == {
        "https://www.rp.pl/dyplomacja/art40671561-slug"}


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "data:text/html,<h1>x</h1>",
    "ftp://www.rp.pl/dyplomacja/art1-x",
    "http://127.0.0.1/dyplomacja/art1-x",
    "http://localhost/dyplomacja/art1-x",
    "http://10.0.0.5/dyplomacja/art1-x",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/dyplomacja/art1-x",
    "https://www.rp.pl.evil.example/dyplomacja/art1-x",
    "https://evil.example/?u=https://www.rp.pl/",
])
def test_public_site_refuses_other_schemes_hosts_and_internal_addresses(rp, url):
    assert not rp.is_allowed(url)


def test_public_site_allows_its_own_hosts(rp):
    assert rp.is_allowed("https://www.rp.pl/dyplomacja/art40671561-x")
    assert rp.is_allowed("https://rp.pl/rss_main")


def test_a_replica_on_loopback_allows_only_its_own_address(local):
    assert local.is_allowed("http://127.0.0.1:8000/dyplomacja/art1-x")
    assert not local.is_allowed("http://127.0.0.1:8001/dyplomacja/art1-x")  # another port
    assert not local.is_allowed("https://www.rp.pl/dyplomacja/art1-x")
    assert local.article_id("http://127.0.0.1:8000/dyplomacja/art42-x") == "42"


# -- the host the crawl talks to vs the identity of an article ----------------------------------


def test_identity_is_on_the_public_base_whatever_host_served_the_page(rp, local):
    expected = "https://www.rp.pl/dyplomacja/art40671561-slug"
    for url in ("http://127.0.0.1:8000/dyplomacja/art40671561-slug/?utm_source=x",
                "https://www.rp.pl/dyplomacja/art40671561-slug#komentarze",
                "https://rp.pl/dyplomacja/art40671561-slug",
                "/dyplomacja/art40671561-slug"):
        assert local.identity_url(url) == expected, url
    assert rp.identity_url("https://rp.pl/dyplomacja/art40671561-slug") == expected
    # Another host keeps its own address: it is not this site.
    assert local.identity_url("https://www.parkiet.com/swiat/art1-x/") == \
        "https://www.parkiet.com/swiat/art1-x"


def test_requests_go_to_the_fetch_base_with_the_same_path(rp, local):
    assert local.fetch_url("https://www.rp.pl/dyplomacja/art1-x") == \
        "http://127.0.0.1:8000/dyplomacja/art1-x"
    assert local.fetch_url("https://rp.pl/sitemaps/news-sitemap.xml?page=2#top") == \
        "http://127.0.0.1:8000/sitemaps/news-sitemap.xml?page=2"
    assert local.fetch_url("https://www.rp.pl/swiat/art1-x") == \
        "http://127.0.0.1:8000/swiat/art1-x"
    assert local.fetch_url("/rss_main") == "http://127.0.0.1:8000/rss_main"
    assert rp.fetch_url("https://rp.pl/dyplomacja/art1-x") == "https://www.rp.pl/dyplomacja/art1-x"
    for url in ("https://historia.rp.pl/historia/art1-x", "http://127.0.0.1:8001/dyplomacja/art1"):
        assert local.fetch_url(url) == url and not local.is_allowed(local.fetch_url(url))


def test_a_mirror_keeping_real_links_still_yields_articles_of_the_section(local):
    assert local.article_id("https://www.rp.pl/dyplomacja/art42-x") == "42"
    assert local.article_id("https://rp.pl/dyplomacja/art42-x") == "42"
    assert local.article_id("http://127.0.0.1:8001/dyplomacja/art42-x") is None
    assert local.article_id("https://www.rp.pl/swiat/art42-x") is None  # another section


def test_article_ids_in_any_section_for_canonical_links(rp, local):
    assert local.site_article_id("https://www.rp.pl/swiat/art44700001-wybory") == "44700001"
    assert local.site_article_id("http://127.0.0.1:8000/wydarzenia/swiat/art7-x/") == "7"
    assert rp.site_article_id("https://www.rp.pl/dyplomacja/art7-x") == "7"
    assert rp.site_article_id("https://www.rp.pl/autor/1234-jan-kowalski") is None
    assert rp.site_article_id("https://www.rp.pl/dyplomacja") is None
    assert rp.site_article_id("https://historia.rp.pl/historia/art7-x") is None
    assert rp.site_article_id("https://www.parkiet.com/swiat/art7-x") is None


FETCHED = "http://127.0.0.1:8000/dyplomacja/art44000123-rozmowy"


@pytest.mark.parametrize(("canonical", "archived", "why"), [
    # The canonical link names this article on the site: it is the identity, in any section.
    ("https://www.rp.pl/dyplomacja/art44000123-rozmowy-w-genewie",
     "https://www.rp.pl/dyplomacja/art44000123-rozmowy-w-genewie", None),
    ("http://127.0.0.1:8000/dyplomacja/art44000123-rozmowy",
     "https://www.rp.pl/dyplomacja/art44000123-rozmowy", None),
    ("https://www.rp.pl/swiat/art44000123-rozmowy",
     "https://www.rp.pl/swiat/art44000123-rozmowy", None),
    (None, "https://www.rp.pl/dyplomacja/art44000123-rozmowy", None),
    # Anything else is ignored as identity: the fetched URL is kept, with the reason.
    ("https://www.parkiet.com/swiat/art44000123-rozmowy",
     "https://www.rp.pl/dyplomacja/art44000123-rozmowy", "on another host"),
    ("https://www.rp.pl/dyplomacja/art44000999-inny",
     "https://www.rp.pl/dyplomacja/art44000123-rozmowy", "names article 44000999"),
    ("https://www.rp.pl/", "https://www.rp.pl/dyplomacja/art44000123-rozmowy",
     "not an article URL"),
])
def test_url_to_archive_an_article_under(local, canonical, archived, why):
    url, note = local.article_url("44000123", FETCHED, canonical)
    assert url == archived
    if why is None:
        assert note is None
    else:
        assert note == f"canonical link ignored ({why}): {canonical}"


def test_internal_addresses_never_become_the_public_sites_own(rp):
    # A page of the public site naming 127.0.0.1 (or the cloud metadata address) makes it
    # neither a link to follow, nor a place to fetch, nor the article's identity.
    for url in ("http://127.0.0.1/dyplomacja/art1-x", "http://169.254.169.254/dyplomacja/art1"):
        assert rp.article_id(url) is None and rp.site_article_id(url) is None
        assert not rp.is_allowed(rp.fetch_url(url))
        archived, note = rp.article_url("1", "https://www.rp.pl/dyplomacja/art1-x", url)
        assert archived == "https://www.rp.pl/dyplomacja/art1-x" and "another host" in note


def test_a_public_override_is_the_only_host_fetched():
    staging = SiteRules.from_profile(load_site_profile("rp"), base_url="https://staging.example.org")
    assert staging.is_allowed("https://staging.example.org/dyplomacja/art1-x")
    assert not staging.is_allowed("https://www.rp.pl/dyplomacja/art1-x")  # e.g. a redirect
    assert staging.fetch_url("https://www.rp.pl/dyplomacja/art1-x") == \
        "https://staging.example.org/dyplomacja/art1-x"
    assert not staging.is_allowed("http://10.0.0.5/dyplomacja/art1-x")
    assert staging.article_id("http://10.0.0.5/dyplomacja/art1-x") is None
