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


def test_canonical_form_drops_query_fragment_and_trailing_slash(rp):
    variants = [
        "https://www.rp.pl/dyplomacja/art40671561-slug?utm_source=x&utm_medium=y",
        "https://www.rp.pl/dyplomacja/art40671561-slug#komentarze",
        "https://www.rp.pl/dyplomacja/art40671561-slug/",
        "https://WWW.RP.PL/dyplomacja/art40671561-slug",
        "/dyplomacja/art40671561-slug",
    ]
    assert {rp.canonicalise(v) for v in variants} == {
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
