"""Layout drift end to end (storage/versioning.py, rule 6): crawl the replica, change its
markup or its content, crawl again. A redesign must create no version, whatever value it makes
vanish; a value an editor really removed from an intact page must become one."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import Archive
from storage.models import Article, FetchEvent
from storage.query import get_versions
from storage.versioning import HASHED_FIELDS
from tests.crawl.helpers import crawl
from tests.reliability.scenarios import reset, snapshot
from tests.replica import ReplicaSite

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

# A restyled article header (and the known ids renamed): title, lead, byline, caption and
# credit get new classes, the lead image's box keeps its own. The image is still found by its
# selector, so its source never falls back, while caption and credit vanish; the body keeps its
# markup, so nothing else changes: the pages whose only change is the lost caption.
HEADER_RENAMES = {
    "articleTitle": "hdr-title", "blog--title": "hdr-title", "article--title": "hdr-title",
    "blog--subtitle": "hdr-lead", "article--lead": "hdr-lead", "author": "hdr-byline",
    "name": "hdr-names", "article--media--lead": "hdr-caption", "image--author": "hdr-credit",
}  # fmt: skip


def _full_redesign(site: ReplicaSite) -> None:
    site.redesign = True


def _header_restyled(site: ReplicaSite) -> None:
    site.class_renames = dict(HEADER_RENAMES)


REDESIGNS = {"every class and id renamed": _full_redesign,
             "header restyled, lead image box kept": _header_restyled}


@pytest.fixture
def archive_url(server, baseline, tmp_path):
    reset(server)
    shutil.copyfile(baseline, tmp_path / "archive.db")
    return f"sqlite:///{tmp_path / 'archive.db'}"


def _events(db_url: str, run_id: int) -> dict[str, dict]:
    """rp.pl article id -> its fetch event of the run."""
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        rows = s.execute(
            select(Article.article_id, FetchEvent)
            .join(FetchEvent, FetchEvent.article_id == Article.id)
            .where(FetchEvent.run_id == run_id)
        ).all()
        return {aid: {"outcome": e.outcome, "changed": e.changed_fields or [],
                      "message": e.message or ""} for aid, e in rows}


def test_baseline_pages_carry_every_kind_of_optional_field(archive_url):
    with Archive.open(archive_url) as archive:
        current = [get_versions(archive, aid)[-1] for aid in snapshot(archive_url)]
    assert any(v["image"] and v["image"]["caption"] and v["image"]["credit"] for v in current)
    assert any(v["tags"] for v in current)
    assert any(len(v["authors"]) >= 3 for v in current)
    assert any(v["updated_at"] for v in current)
    assert any(v["related"] for v in current)
    assert all("layout" in (v["sources"] or {}) for v in current)


@pytest.mark.parametrize("redesign", REDESIGNS.values(), ids=REDESIGNS.keys())
def test_redesign_creates_no_version(server, archive_url, redesign):
    before = snapshot(archive_url)
    server.send_validators = False  # new markup, new bytes: every page is fetched in full
    redesign(server.site)
    result = crawl(server.base_url, archive_url, "--recheck", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.run["new_versions"] == 0
    assert snapshot(archive_url) == before
    events = _events(archive_url, result.run["id"])
    assert set(events) == set(before)
    suspects = {aid: e for aid, e in events.items() if e["outcome"] == "suspect"}
    assert suspects and {e["outcome"] for e in events.values()} <= {"suspect", "unchanged"}
    for aid, event in suspects.items():
        # Every hashed field that differs is named in the reason ("image" as image.caption...).
        named = [f for f in event["changed"] if f in HASHED_FIELDS]
        assert named and all(f in event["message"] for f in named), (aid, event)
    if redesign is _header_restyled:
        # The reported case: pages whose only change is the lost caption and credit.
        only_image = [e for e in suspects.values() if e["changed"] == ["image"]]
        assert only_image
        assert all("vanished" in e["message"] and "image.caption, image.credit" in e["message"]
                   for e in only_image)


# (case of the default site, edit, the field that becomes a version)
REMOVALS = [
    ("several_authors", lambda a: {"authors": a.authors[1:]}, "authors"),  # one of three
    ("initials_only", lambda a: {"authors": []}, "authors"),  # the only author ("arb")
    ("meter_2025_jeszcze", lambda a: {"tags": []}, "tags"),  # all eleven tags
    ("visible_update", lambda a: {"update_visible": False}, "updated_at"),  # update hidden
    ("several_authors", lambda a: {"image": None}, "image"),  # the photo taken out
]


@pytest.mark.parametrize(("case", "edit", "field"), REMOVALS,
                         ids=[f"{c}-{f}" for c, _, f in REMOVALS])
def test_value_really_removed_from_an_intact_page_is_a_version(server, archive_url, case, edit,
                                                               field):
    site = server.site
    article = site.case(case)
    site.edit(article.article_id, **edit(article))
    result = crawl(server.base_url, archive_url, "--recheck", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    event = _events(archive_url, result.run["id"])[article.article_id]
    assert (event["outcome"], event["changed"]) == ("new_version", [field]), event
    assert result.run["new_versions"] == 1 and result.run["suspect"] == 0
