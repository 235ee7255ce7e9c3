"""Issue 14's acceptance on the replica served over HTTP, with real crawls and the real
`newsmon reparse` (worker processes included): a redesign held as suspect and recovered by a
dated profile variant; a broken selector fixed after the fact, its artefacts corrected."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.parsers import build_profile
from storage import Archive
from storage.models import FetchEvent, SupersededRecord
from storage.query import list_versions
from tests.crawl.helpers import newsmon
from tests.reliability.scenarios import snapshot
from tests.reparse.helpers import (
    BROKEN_CAPTION,
    config_dir,
    crawl_with,
    redesign_selectors,
    reparse_cli,
    shipped_profile,
)

pytestmark = pytest.mark.slow


def _held(db_url: str) -> dict[int, str]:
    """Fetch event id -> rp.pl article id of the fetches still held back."""
    from storage.models import Article

    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        return dict(s.execute(
            select(FetchEvent.id, Article.article_id)
            .join(Article, Article.id == FetchEvent.article_id)
            .where(FetchEvent.outcome == "suspect", FetchEvent.version.is_(None))).all())


def test_a_redesign_held_as_suspect_is_recovered_by_a_dated_variant(replica, tmp_path):
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    first = crawl_with(replica.base_url, db)
    assert first.returncode == 0, first.stderr[-2000:]
    before = snapshot(db)
    site = replica.site
    edited = {site.case("seed").article_id, site.case("full_2026").article_id}
    for aid in edited:
        site.edit_title(aid, f"Redakcja zmieniła tytuł artykułu {aid}")
    since = datetime.now(UTC)  # the new template is served from now on
    replica.send_validators = False
    replica.redesign = True
    second = crawl_with(replica.base_url, db, "--recheck", "all")
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.run["new_versions"] == 0 and second.run["suspect"] > len(edited)
    held = _held(db)
    assert edited <= set(held.values())

    # The new class names go into the profile as a variant dated from the redesign.
    config = config_dir(tmp_path / "config", variants=[(since, redesign_selectors(site))])
    proc, dry = reparse_cli(db, "--suspects", "--dry-run", config=config)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (dry["counts"]["new_version"], dry["counts"]["unchanged"]) == (
        len(edited), len(held) - len(edited))
    assert snapshot(db) == before and _held(db) == held  # a dry run changes nothing

    proc, report = reparse_cli(db, "--suspects", config=config)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert report["counts"]["new_version"] == len(edited)
    assert report["counts"]["unchanged"] == len(held) - len(edited)
    assert report["counts"]["held"] == report["counts"]["skipped"] == 0
    assert _held(db) == {}
    after = snapshot(db)
    for aid, versions in before.items():  # no version lost, none bogus
        assert after[aid][:len(versions)] == versions, aid
        assert len(after[aid]) == len(versions) + (aid in edited), aid
    variant = build_profile("rp", {**shipped_profile(), "selectors": {
        **shipped_profile()["selectors"], **redesign_selectors(site)}})
    with Archive.open(db) as archive:
        for aid in edited:
            last = list_versions(archive, aid)[-1]
            assert last["changed_fields"] == ["title"]
            assert last["parser_fingerprint"].rsplit(":", 1)[1] == \
                variant.fingerprint.rsplit(":", 1)[1]
    check = newsmon("db", "check", "--db", db)
    assert check.returncode == 0, check.stdout + check.stderr

    # Crawls now read the new template with the variant, and a re-parse of the versions
    # reads each page with the variant of its day: nothing to correct.
    third = crawl_with(replica.base_url, db, "--recheck", "all", config=config)
    assert third.returncode == 0, third.stderr[-2000:]
    assert (third.run["suspect"], third.run["new_versions"]) == (0, 0)
    proc, again = reparse_cli(db, config=config)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert again["counts"]["changed"] == again["counts"]["events_added"] == 0
    assert again["counts"]["pages"] == len(after) + len(edited)
    # Told to use the newest variant for every page, the old pages would lose values.
    proc, forced = reparse_cli(db, "--dry-run", "--variant", "latest", config=config)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert forced["counts"]["changed"] + forced["counts"]["unusable"] >= len(before)


def test_a_broken_selector_fixed_after_the_fact(replica, db_url, tmp_path):
    broken = config_dir(tmp_path / "broken", selectors=BROKEN_CAPTION)
    first = crawl_with(replica.base_url, db_url, config=broken)
    assert first.returncode == 0, first.stderr[-2000:]
    articles = first.run["new_articles"]
    # The selector is fixed; the next crawl sees every caption "appear": an artefact.
    replica.send_validators = False
    second = crawl_with(replica.base_url, db_url, "--recheck", "all")
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.run["new_versions"] == articles
    aid = replica.site.case("seed").article_id
    shown = newsmon("diff", aid, "--db", db_url)
    assert shown.returncode == 0 and "image:" in shown.stdout
    before = snapshot(db_url)

    proc, dry = reparse_cli(db_url, "--dry-run")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert dry["fields"]["image"] == articles  # every version 1 lost its caption
    assert dry["counts"]["changed"] == articles
    assert all(e["old"]["caption"] is None and e["new"]["caption"]
               for e in dry["examples"]["image"])
    assert snapshot(db_url) == before
    human = newsmon("reparse", "--dry-run", "--db", db_url)
    assert human.returncode == 0 and "image" in human.stdout and "would" in human.stdout

    proc, report = reparse_cli(db_url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert report["counts"]["changed"] == articles
    assert report["counts"]["artefacts_marked"] == articles
    assert report["counts"]["events_removed"] == articles  # each version 2's image_changed
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        kept = s.scalars(select(SupersededRecord)).all()
    assert len(kept) == articles
    assert {k.version for k in kept} == {1}
    assert all(k.record["image"]["caption"] is None for k in kept)
    after = snapshot(db_url)
    assert {a: [h for _, h in v] for a, v in after.items()} != \
        {a: [h for _, h in v] for a, v in before.items()}
    assert all(len(v) == 2 for v in after.values())  # nothing deleted

    shown = newsmon("diff", aid, "--db", db_url)
    assert shown.returncode == 2 and "single version" in shown.stderr
    shown = newsmon("diff", aid, "--artefacts", "--db", db_url)
    assert shown.returncode == 0 and "no differences" in shown.stdout
    listed = json.loads(newsmon("versions", aid, "--db", db_url, "--json").stdout)
    assert [v["version"] for v in listed] == [1]
    listed = json.loads(newsmon("versions", aid, "--artefacts", "--db", db_url,
                                "--json").stdout)
    assert [v["artefact"] for v in listed] == [False, True]
    check = newsmon("db", "check", "--db", db_url)
    assert check.returncode == 0, check.stdout + check.stderr
    proc, again = reparse_cli(db_url)
    assert proc.returncode == 0
    assert sum(again["counts"][k] for k in ("changed", "refreshed", "events_added",
                                            "events_removed", "events_updated")) == 0
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        assert s.scalar(select(func.count()).select_from(SupersededRecord)) == articles
