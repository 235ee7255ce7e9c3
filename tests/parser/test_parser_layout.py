"""The layout signature (`sources["layout"]`) and the per-part image sources: the provenance
storage/versioning.py uses to tell a redesign from an edit. The signature must not change
with page furniture, must change when the markup is redesigned, and must change only in a
field's own entries when an editor removes that field's value."""

from __future__ import annotations

import pytest

from crawler.parsers import parse_article
from tests.replica import ReplicaSite


def _layout(site: ReplicaSite, article_id: str) -> set[str]:
    return set(parse_article(site.render(article_id)).sources["layout"])


def _fields(entries: set[str]) -> set[str]:
    return {e.partition(":")[0] for e in entries}


@pytest.fixture(scope="module")
def site():
    return ReplicaSite.generated(60)


def test_furniture_does_not_move_the_signature(site):
    # New ads, related tabs, block ids and scripts on every page (same content).
    for article in site.live_articles():
        aid = article.article_id
        before = _layout(site, aid)
        site.reshuffle_furniture(aid)
        assert _layout(site, aid) == before, aid


def test_signature_names_the_fields_found_by_their_selectors():
    site = ReplicaSite.default()
    record = parse_article(site.render(site.case("several_authors").article_id))
    layout = record.sources["layout"]
    assert layout == sorted(layout)
    assert {"page:scope", "title:title", "lead:lead", "authors:author_box",
            "authors:author_link", "image:image_box", "image:image_caption",
            "image:image_credit", "tags:tags", "body:body"} <= set(layout)


def test_redesign_moves_the_selectors_of_fields_that_survive():
    site = ReplicaSite.default()
    aid = site.case("seed").article_id
    before = _layout(site, aid)
    site.redesign = True
    after = _layout(site, aid)
    # Title, lead and authors still come out (from JSON-LD) but their selectors are gone.
    assert {"page", "title", "lead", "authors", "published_at"} <= _fields(before ^ after)


@pytest.mark.parametrize(
    ("case", "edit", "field"),
    [
        ("several_authors", lambda a: {"authors": a.authors[1:]}, None),
        ("initials_only", lambda a: {"authors": []}, "authors"),
        ("meter_2025_jeszcze", lambda a: {"tags": []}, "tags"),
        ("full_2026", lambda a: {"image": None}, "image"),
        ("visible_update", lambda a: {"update_visible": False}, None),
    ],
    ids=["one-author-of-three", "only-author", "all-tags", "photo", "update-hidden"],
)
def test_a_removal_moves_only_the_fields_own_entries(case, edit, field):
    site = ReplicaSite.default()
    article = site.article(site.case(case).article_id)
    before = _layout(site, article.article_id)
    site.edit(article.article_id, **edit(article))
    moved = _fields(before ^ _layout(site, article.article_id))
    assert moved == ({field} if field else set())


def test_image_parts_have_their_own_sources():
    site = ReplicaSite.default()
    aid = site.case("seed").article_id
    sources = parse_article(site.render(aid)).sources
    assert [sources[f"image.{p}"] for p in ("url", "caption", "credit")] == ["selector"] * 3
    site.redesign = True
    # After the redesign: the URL from og:image, caption and credit from the "Foto:" line.
    sources = parse_article(site.render(aid)).sources
    assert [sources[f"image.{p}"] for p in ("url", "caption", "credit")] == [
        "meta", "pattern", "pattern"]
