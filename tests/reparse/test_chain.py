"""Re-parsing on both back ends, through the library (newsmon.reparse in-process, no worker
processes) over archives built from replica pages by the crawl's own write path: records
corrected with the old ones kept, artefacts marked and cleared, changed fields, summaries and
events following, a no-op when nothing changed, held fetches re-decided in fetch order."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler import config
from crawler.parsers.profile import load_profile, profile_variants
from newsmon.reparse import Options, reparse
from storage import Archive
from storage.models import Article, ArticleVersion, ChangeEvent, FetchEvent, SupersededRecord
from storage.query import QueryError, diff_versions, list_versions
from storage.query.changes import list_changes
from storage.reparse import correct_chain, prepare
from storage.reparse_jobs import write
from tests.reparse.helpers import (
    BROKEN_CAPTION,
    config_dir,
    later,
    profile,
    redesign_selectors,
    store,
)
from tests.replica import ReplicaSite


@pytest.fixture
def use_config(monkeypatch):
    """Point the configuration at a folder (None: the shipped one) for this process."""
    def use(folder):
        if folder is None:
            monkeypatch.delenv("NEWSMON_CONFIG_DIR", raising=False)
        else:
            monkeypatch.setenv("NEWSMON_CONFIG_DIR", str(folder))
        config.reload()
        profile_variants.cache_clear()

    yield use
    monkeypatch.undo()
    config.reload()
    profile_variants.cache_clear()


@pytest.fixture
def archive(db_url):
    with Archive.open(db_url) as arch:
        yield arch


def _run(archive, **options) -> dict:
    report = reparse(archive, Options(workers=0, **options))
    return report


def _events(archive, article: int) -> list[tuple[int, str]]:
    with Session(archive.engine) as s:
        return sorted((e.version, e.type) for e in s.scalars(
            select(ChangeEvent).where(ChangeEvent.article_id == article)))


def test_a_fixed_selector_corrects_history_and_marks_the_artefact(archive, tmp_path,
                                                                   use_config):
    site = ReplicaSite.default()
    broken, fixed = profile(BROKEN_CAPTION), profile()
    plain, edited = site.case("several_authors").article_id, site.case("seed").article_id
    for aid in (plain, edited):
        assert store(archive, site, aid, broken, later(0)).kind == "new_article"
    site.edit_title(edited, "Nagłówek poprawiony przez redakcję")
    # The selector is fixed before the next crawl: the caption "appears", an artefact.
    assert store(archive, site, plain, fixed, later(10)).changed_fields == ["image"]
    assert store(archive, site, edited, fixed, later(10)).changed_fields == ["title", "image"]
    plain_id = diff_versions(archive, plain)["id"]
    assert (2, "image_changed") in _events(archive, plain_id)

    use_config(config_dir(tmp_path / "fixed"))
    dry = _run(archive, dry_run=True)
    assert dry.counts["changed"] == 2 and dry.fields["image"] == 2  # the two versions 1
    assert dry.examples["image"][0]["old"]["caption"] is None
    assert dry.examples["image"][0]["new"]["caption"]
    assert len(list_versions(archive, plain)) == 2  # a dry run changes nothing
    assert (2, "image_changed") in _events(archive, plain_id)

    report = _run(archive)
    assert report.counts["changed"] == 2 and report.counts["unchanged"] == 2
    assert report.counts["artefacts_marked"] == 1
    assert report.counts["events_removed"] == 2  # both versions 2's image_changed
    # The artefact is hidden; the real edit stays, now with its real changed fields.
    assert [v["version"] for v in list_versions(archive, plain)] == [1]
    assert [v["artefact"] for v in list_versions(archive, plain, artefacts=True)] == [False,
                                                                                       True]
    with pytest.raises(QueryError, match="single version"):
        diff_versions(archive, plain)
    assert [f["field"] for f in diff_versions(archive, edited)["fields"]] == ["title"]
    assert list_versions(archive, edited)[1]["changed_fields"] == ["title"]
    assert _events(archive, plain_id) == [(1, "new_article")]
    assert plain_id not in {c["id"] for c in list_changes(archive)["changes"]}
    # The replaced records are kept, with what they were made by.
    with Session(archive.engine) as s:
        kept = s.scalars(select(SupersededRecord).order_by(SupersededRecord.id)).all()
    assert {k.version_id for k in kept} == {_vid(archive, plain, 1), _vid(archive, edited, 1)}
    assert all(k.record["image"]["caption"] is None for k in kept)
    assert {k.parser_fingerprint for k in kept} == {broken.fingerprint}
    assert archive.check() == []
    # Nothing left to correct: a second run is a no-op.
    again = _run(archive)
    assert (again.counts["changed"], again.counts["refreshed"]) == (0, 0)
    assert sum(again.counts[k] for k in ("events_added", "events_removed",
                                         "events_updated", "artefacts_marked")) == 0


def _vid(archive, aid: str, version: int) -> int:
    with Session(archive.engine) as s:
        return s.scalar(select(ArticleVersion.id)
                        .join(Article, Article.id == ArticleVersion.article_id)
                        .where(Article.article_id == aid, ArticleVersion.version == version))


def test_the_chain_follows_a_record_back_and_forth(archive):
    site = ReplicaSite.default()
    broken, fixed = profile(BROKEN_CAPTION), profile()
    aid = site.case("several_authors").article_id
    store(archive, site, aid, broken, later(0))
    store(archive, site, aid, fixed, later(10))
    v1 = _vid(archive, aid, 1)
    article = diff_versions(archive, aid)["id"]
    record = _parsed(site, aid, fixed)
    result = write(archive, lambda s: correct_chain(s, article, {v1: record}))
    assert (result.changed, result.artefacts_marked, result.events_removed) == (1, 1, 1)
    # The broken record back on version 1: version 2 is a real change again.
    record = _parsed(site, aid, broken)
    result = write(archive, lambda s: correct_chain(s, article, {v1: record}))
    assert (result.changed, result.artefacts_cleared, result.events_added) == (1, 1, 1)
    assert _events(archive, article) == [(1, "new_article"), (2, "image_changed")]
    assert list_versions(archive, aid)[1]["changed_fields"] == ["image"]
    assert archive.check() == []


def _parsed(site, aid, parser):
    from crawler.parsers import parse_article

    article = site.article(aid)
    url = article.url("https://www.rp.pl")
    record = parse_article(site.render(article).encode(), url=url, site=parser).to_dict()
    record["parser_fingerprint"] = parser.fingerprint
    return prepare(record, url)


def test_held_pages_become_versions_in_fetch_order(archive, tmp_path, use_config):
    site = ReplicaSite.default()
    base = profile()
    same, edited, late = (site.case(c).article_id for c in ("seed", "full_2026", "interview"))
    for aid in (same, edited, late):
        store(archive, site, aid, base, later(0))
    site.redesign = True
    site.edit_title(edited, "Tytuł zmieniony razem z szatą graficzną")
    held = {aid: store(archive, site, aid, base, later(60)) for aid in (same, edited, late)}
    assert {o.kind for o in held.values()} == {"suspect"}
    # The redesign is over for one article, which the archive took later as a version.
    site.redesign = False
    site.edit_title(late, "Nowszy tytuł, już w starym szablonie")
    assert store(archive, site, late, base, later(90)).kind == "new_version"

    since = later(30)
    use_config(config_dir(tmp_path / "variant", variants=[(since, redesign_selectors(site))]))
    report = _run(archive, suspects=True)
    assert report.counts["pages"] == 3
    outcomes = {n["article_id"]: n for n in report.notes}
    assert outcomes[same]["outcome"] == "unchanged"
    assert (outcomes[edited]["outcome"], outcomes[edited]["changed_fields"]) == (
        "new_version", ["title"])
    assert outcomes[late]["outcome"] == "skipped" and "fetched after" in outcomes[late]["reason"]
    assert [v["version"] for v in list_versions(archive, edited)] == [1, 2]
    variant = load_profile("rp", at=later(60))
    assert variant.variant != "base"
    assert list_versions(archive, edited)[1]["parser_fingerprint"] == variant.fingerprint
    with Session(archive.engine) as s:
        resolved = {e.id: e for e in s.scalars(select(FetchEvent).where(
            FetchEvent.outcome == "suspect"))}
    assert resolved[held[edited].event_id].version == 2
    assert resolved[held[same].event_id].version == 1
    assert resolved[held[late].event_id].version is None  # still held, out of order
    assert archive.check() == []
    assert _run(archive, suspects=True).counts["pages"] == 1  # only the out-of-order one
