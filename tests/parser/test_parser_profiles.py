"""Site profiles: a third template is a config change, not a code change."""

from __future__ import annotations

import json
import tomllib

import pytest
from parser_cases import PAGES, REPO

from crawler.config import ConfigError
from crawler.parsers import build_profile, load_profile, parse_article

# The classes of the made-up redesign in fixture handmade-rp-redesign, as a site developer
# would add them: one more alternative per selector, nothing else.
THIRD_TEMPLATE = {
    "title": "h1.hdr__headline",
    "lead": "div.hdr__standfirst",
    "published": "span.d-pub",
    "updated_box": "span.d-upd-box",
    "updated": "span.d-upd",
    "author_box": "p.by__who",
    "image_box": "div.hdr__media",
    "body": "div.storyFull div.story__text",
    "preview": "div.teaser__text",
    "paywall_marker": "div.teaser__left",
    "tags": "div[data-section='tags'] > a",
    "related_card": ".readmore",
}


def _rp_with_third_template() -> dict:
    with (REPO / "config" / "sites" / "rp.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    selectors = raw["selectors"]
    for key, css in THIRD_TEMPLATE.items():
        current = selectors.get(key) or []
        selectors[key] = ([current] if isinstance(current, str) else list(current)) + [css]
    return raw


def test_third_template_by_config_only():
    profile = build_profile("rp", _rp_with_third_template())
    page = (PAGES / "handmade-rp-redesign" / "page.html").read_bytes()
    url = (PAGES / "handmade-rp-2025-seed" / "url.txt").read_text().strip()
    record = parse_article(page, url=url, site=profile).to_dict()
    # Parsed exactly like the seed page in the known template: same record, same sources.
    expected = json.loads((PAGES / "handmade-rp-2025-seed" / "expected.json").read_text())
    record.pop("parser_version")
    assert record == expected


def test_the_redesign_without_the_config_falls_back():
    page = (PAGES / "handmade-rp-redesign" / "page.html").read_bytes()
    record = parse_article(page)
    assert record.sources["body"] == "fallback"
    assert record.sources["title"] == "jsonld"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"selectors": {"title": "h1..x"}}, "cannot compile"),
        ({"selectors": {"no_such_field": "h1"}}, "unknown selector keys"),
        ({"selectors": {"title": 5}}, "string or a list"),
        ({"patterns": {"date": "(unclosed"}}, "pattern 'date'"),
        ({"site": {"timezone": "Mars/Olympus"}}, "unknown timezone"),
    ],
)
def test_broken_profiles_are_reported_clearly(raw, message):
    with pytest.raises(ConfigError, match=message):
        build_profile("broken", raw)


def test_shipped_profiles_load():
    for name in ("rp", "generic"):
        profile = load_profile(name)
        assert profile.name == name
    assert load_profile("rp").timezone.key == "Europe/Warsaw"
    assert load_profile("generic").id_pattern is None


def test_generic_profile_with_a_site_specific_id_pattern():
    with (REPO / "config" / "sites" / "generic.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    raw["site"]["id_pattern"] = r"-a-(?P<article_id>\d+)\.html$"
    profile = build_profile("morgenblatt", raw)
    page = (PAGES / "generic-meta-jsonld-only" / "page.html").read_bytes()
    record = parse_article(page, site=profile)
    assert record.article_id == "771234"  # from og:url .../eu-gipfel-einigung-a-771234.html
    assert record.site == "morgenblatt"
