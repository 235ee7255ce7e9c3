"""Dated profile variants and parser fingerprints (crawler/parsers/profile.py): which settings
parse a page fetched at a given time, and a fingerprint that names exactly those settings."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest

from crawler.config import ConfigError
from crawler.parsers import load_profile, parse_article
from crawler.parsers.profile import build_variants, select_variant
from tests.reparse.helpers import BROKEN_CAPTION, RP, shipped_profile
from tests.replica import ReplicaSite


def _with_variants(*variants) -> dict:
    raw = copy.deepcopy(shipped_profile())
    raw["variants"] = list(variants)
    return raw


def test_each_page_is_parsed_with_the_variant_in_force_when_it_was_fetched():
    # From 1 March 2027 (midnight in Warsaw) the caption selector is another one.
    variants = build_variants("rp", _with_variants(
        {"since": date(2027, 3, 1), "name": "2027", "selectors": BROKEN_CAPTION}))
    base, later = variants[0][1], variants[1][1]
    assert (base.variant, later.variant) == ("base", "2027")
    assert variants[1][0] == datetime(2027, 2, 28, 23, 0, tzinfo=UTC)
    assert select_variant(variants, datetime(2027, 2, 28, 22, 59, tzinfo=UTC)) is base
    assert select_variant(variants, datetime(2027, 2, 28, 23, 0, tzinfo=UTC)) is later
    # A crawl parses with the variant in force now.
    assert select_variant(variants, None) is (later if datetime.now(UTC) >= variants[1][0]
                                              else base)
    recent = build_variants("rp", _with_variants(
        {"since": datetime.now(UTC) - timedelta(minutes=1), "selectors": BROKEN_CAPTION}))
    assert select_variant(recent, None) is recent[1][1]
    # Only the keys a variant sets change: the rest is the base's.
    site = ReplicaSite.default()
    article = site.case("seed")
    page = site.render(article).encode()
    old = parse_article(page, url=article.url(RP), site=base).to_dict()
    new = parse_article(page, url=article.url(RP), site=later).to_dict()
    assert old["image"]["caption"] and new["image"]["caption"] is None
    assert {k for k in old if old[k] != new[k]} == {"image", "sources"}


def test_the_fingerprint_names_the_package_the_variant_and_its_settings():
    variants = build_variants("rp", _with_variants(
        {"since": "2027-03-01T06:30:00+01:00", "selectors": BROKEN_CAPTION},
        {"since": date(2027, 6, 1), "selectors": {}}))
    base, broken, same = (p for _, p in variants)
    assert base.fingerprint == load_profile("rp").fingerprint  # the shipped profile: no variants
    version, name, digest = base.fingerprint.split(":")
    assert name == "rp@base" and len(digest) == 12 and version
    assert broken.fingerprint.split(":")[1] == "rp@2027-03-01"
    assert broken.fingerprint.split(":")[2] != digest  # other settings, another hash
    assert same.fingerprint.split(":")[2] == digest  # the same settings, the same hash
    # Rebuilt from the same settings, the same fingerprint (stable across processes).
    assert build_variants("rp", copy.deepcopy(shipped_profile()))[0][1].fingerprint == \
        base.fingerprint


def test_naive_since_is_the_sites_wall_time():
    variants = build_variants("rp", _with_variants(
        {"since": datetime(2027, 7, 1, 12, 0), "selectors": {}}))
    assert variants[1][0].utcoffset() == timedelta(hours=2)  # Warsaw summer time


@pytest.mark.parametrize(("variants", "message"), [
    ([{"selectors": {}}], "no since"),
    ([{"since": "soon"}], "not a date"),
    ([{"since": date(2027, 1, 1), "colour": "red"}], "unknown keys"),
    ([{"since": date(2027, 2, 1)}, {"since": date(2027, 1, 1)}], "oldest first"),
    ([{"since": date(2027, 1, 1), "selectors": {"title": "h1..x"}}], "cannot compile"),
    ([{"since": date(2027, 1, 1), "selectors": {"no_such_field": "h1"}}], "unknown selector"),
])
def test_broken_variants_are_reported_clearly(variants, message):
    with pytest.raises(ConfigError, match=message):
        build_variants("rp", _with_variants(*variants))


def test_variants_must_be_an_array_of_tables():
    raw = copy.deepcopy(shipped_profile())
    raw["variants"] = {"since": date(2027, 1, 1)}
    with pytest.raises(ConfigError, match=r"\[\[variants\]\]"):
        build_variants("rp", raw)
