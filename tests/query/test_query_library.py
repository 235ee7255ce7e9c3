"""storage.query against a crawled archive, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest

from storage.query import (
    ArticleFilter,
    QueryError,
    archive_stats,
    diff_versions,
    export_records,
    get_version,
    list_articles,
    list_versions,
    read_csv_records,
    rebuild_search_index,
    resolve_article,
    search,
    write_csv,
    write_jsonl,
)
from tests.query.conftest import (
    FOLDING,
    FORMULA,
    FORMULA_TITLE,
    NEW_SENTENCE,
    NEW_TITLE,
    OLD_SENTENCE,
    PAYWALL,
    PLAIN,
    SEED,
)

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


@pytest.fixture(scope="module")
def everything(archive):
    return list_articles(archive, limit=None)


def ids(rows):
    return {r["article_id"] for r in rows}


# -- listing -------------------------------------------------------------------------------


def test_listing_has_every_crawled_article(built, archive, everything):
    expected = {a.article_id for a in built.site.live_articles()} - {"44810013"}  # robots
    assert ids(everything) == expected
    row = next(r for r in everything if r["article_id"] == SEED)
    assert row["title"] == NEW_TITLE and row["versions"] == 2 and row["authors"] == ["arb"]
    assert set(row) >= {"id", "article_id", "url", "published_at", "title", "authors",
                        "versions", "paywalled", "paywall_percent"}


def test_default_order_is_newest_first(everything, archive):
    dates = [r["published_at"] for r in everything]
    assert dates == sorted(dates, reverse=True)
    oldest = list_articles(archive, order="oldest", limit=3)
    assert [r["id"] for r in oldest] == [r["id"] for r in everything[::-1][:3]]
    assert list_articles(archive, order="versions", limit=2)[0]["versions"] == 2


def test_limit(archive):
    assert len(list_articles(archive, limit=5)) == 5
    with pytest.raises(QueryError):
        list_articles(archive, limit=0)


def test_since_until(archive, everything):
    since, until = date(2025, 3, 30), date(2025, 10, 26)
    rows = list_articles(archive, ArticleFilter(since=since, until=until), limit=None)
    expected = {r["article_id"] for r in everything
                if since <= r["published_at"].date() <= until}
    assert ids(rows) == expected and expected
    moment = datetime.fromisoformat("2025-03-30T01:00:00+00:00")
    later = list_articles(archive, ArticleFilter(since=moment), limit=None)
    assert ids(later) == {r["article_id"] for r in everything if r["published_at"] >= moment}


@pytest.mark.parametrize("name", ["Łomanowski", "lomanowski", "ANDRZEJ ŁOMANOWSKI"])
def test_author_filter_folds(archive, everything, name):
    rows = list_articles(archive, ArticleFilter(author=name), limit=None)
    expected = {r["article_id"] for r in everything if "Andrzej Łomanowski" in r["authors"]}
    assert ids(rows) == expected and expected


def test_tag_and_section_filters(archive, everything):
    rows = list_articles(archive, ArticleFilter(tag="radoslaw sikorski"), limit=None)
    expected = {r["article_id"] for r in everything if "Radosław Sikorski" in r["tags"]}
    assert ids(rows) == expected and expected
    assert ids(list_articles(archive, ArticleFilter(section="dyplomacja"), limit=None)) == \
        ids(everything)
    assert list_articles(archive, ArticleFilter(section="sport")) == []


def test_author_and_tag_together(archive, everything):
    rows = list_articles(archive, ArticleFilter(author="lomanowski", tag="sikorski"), limit=None)
    expected = {r["article_id"] for r in everything if "Andrzej Łomanowski" in r["authors"]
                and "Radosław Sikorski" in r["tags"]}
    assert ids(rows) == expected
    none = list_articles(archive, ArticleFilter(author="lomanowski", tag="no such tag"))
    assert none == []


def test_paywall_filters(archive, everything):
    paid = list_articles(archive, ArticleFilter(paywalled=True), limit=None)
    free = list_articles(archive, ArticleFilter(paywalled=False), limit=None)
    assert ids(paid) == {r["article_id"] for r in everything if r["paywalled"]}
    assert ids(paid) | ids(free) == ids(everything) and not ids(paid) & ids(free)
    assert FOLDING in ids(free)  # an open 2026 article


def test_changed_filters(archive):
    assert ids(list_articles(archive, ArticleFilter(changed=True))) == {SEED, PAYWALL}
    recent = list_articles(archive, ArticleFilter(changed_since=date.today()))
    assert ids(recent) == {SEED, PAYWALL}
    assert list_articles(archive, ArticleFilter(changed_since=date(2999, 1, 1))) == []


# -- one article ------------------------------------------------------------------------------


def test_resolve_article_forms(built, archive):
    archive_id = resolve_article(archive, SEED)
    url = built.site.article(SEED).url(built.base_url)
    assert resolve_article(archive, f"art{SEED}") == archive_id
    assert resolve_article(archive, url) == archive_id
    assert resolve_article(archive, f"{built.base_url}/dyplomacja/art{SEED}-old-slug") == \
        archive_id
    assert resolve_article(archive, archive_id) == archive_id
    for bad in ("999999999", "art1", "hello", ""):
        with pytest.raises(QueryError):
            resolve_article(archive, bad)


def test_show_latest_and_given_version(built, archive):
    latest = get_version(archive, SEED)
    first = get_version(archive, SEED, 1)
    truth = built.site.article(SEED)
    assert latest["version"] == 2 and latest["title"] == NEW_TITLE
    assert NEW_SENTENCE in latest["body"] and OLD_SENTENCE not in latest["body"]
    assert first["version"] == 1 and OLD_SENTENCE in first["body"]
    assert latest["article_id"] == SEED and latest["authors"] == [a.name for a in truth.authors]
    with pytest.raises(QueryError, match="no version 7"):
        get_version(archive, SEED, 7)


def test_versions_history(archive):
    history = list_versions(archive, SEED)
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["changed_fields"] == ["*"]
    assert set(history[1]["changed_fields"]) == {"title", "body"}
    assert history[0]["fetched_at"] < history[1]["fetched_at"]
    assert all(len(v["content_hash"]) == 64 for v in history)


def test_diff_of_edited_headline_and_sentence(archive):
    diff = diff_versions(archive, SEED)
    assert (diff["from"], diff["to"]) == (1, 2)
    fields = {f["field"]: f for f in diff["fields"]}
    assert set(fields) == {"title", "body"}
    title_ops = fields["title"]["ops"]
    assert "".join(o["text"] for o in title_ops if o["op"] != "insert") == \
        get_version(archive, SEED, 1)["title"]
    assert "".join(o["text"] for o in title_ops if o["op"] != "delete") == NEW_TITLE
    body_ops = fields["body"]["ops"]
    deleted = " ".join(o["text"] for o in body_ops if o["op"] == "delete")
    inserted = " ".join(o["text"] for o in body_ops if o["op"] == "insert")
    assert "Według" in deleted and "podpisanie" in deleted
    assert "Zdaniem" in inserted and "zawarcie" in inserted
    assert "Stoltenberga" not in deleted  # unchanged words stay unchanged
    assert diff_versions(archive, SEED, 2, 1)["from"] == 2


def test_diff_of_paywall_percent(archive):
    diff = diff_versions(archive, PAYWALL)
    assert diff["fields"] == [{"field": "paywall_percent", "old": 89, "new": 55}]


def test_diff_errors(archive):
    with pytest.raises(QueryError, match="single version"):
        diff_versions(archive, FOLDING)
    with pytest.raises(QueryError):
        diff_versions(archive, SEED, 1, None)
    with pytest.raises(QueryError):
        diff_versions(archive, SEED, 1, 5)


# -- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "article"), [
    ("lodz", FOLDING),
    ("Łódź", PLAIN),  # the accented query finds the plain text
    ("gesla", FOLDING),
    ("gęślą", FOLDING),
    ("polnocna", SEED),
    ("PÓŁNOCNĄ", SEED),
    ("stoltenb*", SEED),
    ('"pakt obronny"', SEED),
    ('"zawarcie paktu"', SEED),
])
def test_search_folds_and_finds(archive, query, article):
    assert article in ids(search(archive, query, limit=50))


def test_search_folding_both_ways(archive):
    plain_and_accented = ids(search(archive, "lodz", limit=50))
    assert {FOLDING, PLAIN} <= plain_and_accented
    assert ids(search(archive, "Łódź", limit=50)) == plain_and_accented


def test_search_current_versus_history(archive):
    assert SEED not in ids(search(archive, '"podpisanie paktu"'))
    history = search(archive, '"podpisanie paktu"', all_versions=True)
    assert [(h["article_id"], h["version"]) for h in history] == [(SEED, 1)]


def test_search_ranks_title_matches_first_and_highlights(archive):
    hits = search(archive, "stoltenberg")
    assert hits[0]["article_id"] == SEED
    assert "[Stoltenberg]" in hits[0]["title_highlighted"]
    hits = search(archive, "lodz", marks=("<b>", "</b>"))
    hit = next(h for h in hits if h["article_id"] == FOLDING)
    assert "<b>Łódź</b>" in hit["snippet"]
    ranks = [h["rank"] for h in search(archive, "rosja OR nato", limit=50)]
    assert ranks == sorted(ranks, reverse=True)


def test_search_ranking_window(archive):
    everything = search(archive, "rosja", limit=50, window=None)  # bm25 over all matches
    windowed = search(archive, "rosja", limit=50)  # fewer matches than the window: same set
    assert {h["version_id"] for h in windowed} == {h["version_id"] for h in everything}
    for hits in (everything, windowed):
        ranks = [h["rank"] for h in hits]
        assert ranks == sorted(ranks, reverse=True)
    newest = search(archive, "rosja", limit=5, window=5, all_versions=True)
    assert len(newest) == 5
    # The window is the newest matches, however they are found (on PostgreSQL a prefix the
    # planner's statistics put in a large share of the versions, as "w*", by walking the
    # newest ids, others by the index).
    if archive.engine.dialect.name == "postgresql":
        with archive.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE version_fts")
    cases = [("rosja", newest)] + [(w, search(archive, w, limit=5, window=5, all_versions=True))
                                   for w in ("w", "w*")]
    for word, found in cases:
        every = search(archive, word, limit=500, window=None, all_versions=True)
        assert len(found) == 5
        assert {h["version_id"] for h in found} == set(sorted(h["version_id"]
                                                              for h in every)[-5:])
    with pytest.raises(QueryError):
        search(archive, "rosja", limit=10, window=5)


def test_search_window_found_range_by_range(archive, monkeypatch):
    # On a large archive PostgreSQL looks for the window in ranges of the newest ids (sized by
    # the planner's estimate, then by what the first held), phrases among the versions that
    # have their words: forced here on a small archive, with ranges of a few ids.
    if archive.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from storage.query import search_pg

    monkeypatch.setattr(search_pg, "DENSE_SHARE", 2.0)  # never the dense walk (prefixes)
    monkeypatch.setattr(search_pg, "RANGE_LIMIT", 1.0)
    monkeypatch.setattr(search_pg, "RANGE_MARGIN", 0.05)
    for query in ("rosja", "w", "rosja OR nato", '"pakt obronny"', 'w -"pakt obronny"',
                  'w -"zawarcie paktu" -korea'):
        every = search(archive, query, limit=500, window=None, all_versions=True)
        found = search(archive, query, limit=4, window=4, all_versions=True)
        newest = sorted(h["version_id"] for h in every)[-4:]
        assert sorted(h["version_id"] for h in found) == newest, query
        ranks = [h["rank"] for h in found]
        assert ranks == sorted(ranks, reverse=True)


def test_search_boolean_operators(archive):
    both = ids(search(archive, "stoltenberg korea", limit=50))
    without = ids(search(archive, "stoltenberg -korea", limit=50))
    assert SEED in both and SEED not in without


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "(nato", "-nato", "nato OR"])
def test_search_malformed_query(archive, query):
    with pytest.raises(QueryError):
        search(archive, query)


def test_search_text_with_sql_is_only_searched(archive):
    assert search(archive, "x'; DROP TABLE articles; --") == []
    assert list_articles(archive, limit=1)


def test_rebuild_search_index_keeps_results(archive):
    before = ids(search(archive, "lodz", limit=50))
    assert rebuild_search_index(archive) >= 33
    assert ids(search(archive, "lodz", limit=50)) == before


# -- export -------------------------------------------------------------------------------------


def test_export_jsonl_round_trip(archive, everything):
    out = io.StringIO()
    count = write_jsonl(export_records(archive), out)
    lines = out.getvalue().splitlines()
    assert count == len(lines) == len(everything)
    back = [json.loads(line) for line in lines]
    for record in back:
        stored = get_version(archive, record["id"])
        for key, value in record.items():
            expected = stored.get(key)
            if isinstance(expected, datetime):
                expected = expected.isoformat()
            assert value == expected, (record["article_id"], key)
    assert {r["article_id"] for r in back} == ids(everything)


def test_export_matches_parser_record(built, archive):
    back = {r["article_id"]: r for r in export_records(archive)}
    # On www.rp.pl: the archive names the site's own URL, whichever host the crawl talked to.
    truth = built.site.article(SEED).expected_record()
    for key in ("title", "lead", "body", "authors", "tags", "paywalled", "paywall_percent",
                "url"):
        assert back[SEED][key] == truth[key], key


def test_export_versions_and_filters(archive):
    history = list(export_records(archive, ArticleFilter(changed=True), all_versions=True))
    assert sorted((r["article_id"], r["version"]) for r in history) == \
        sorted([(SEED, 1), (SEED, 2), (PAYWALL, 1), (PAYWALL, 2)])
    free = list(export_records(archive, ArticleFilter(paywalled=False)))
    assert free and all(r["paywalled"] is False for r in free)


def test_export_csv_escapes_formulas(archive):
    out = io.StringIO()
    write_csv(export_records(archive), out)
    text = out.getvalue()
    assert "'" + FORMULA_TITLE.replace('"', '""') in text
    rows = read_csv_records(text)
    assert next(r for r in rows if r["article_id"] == FORMULA)["title"] == FORMULA_TITLE
    raw = io.StringIO()
    write_csv(export_records(archive), raw, raw=True)
    assert ",\"" + FORMULA_TITLE.replace('"', '""') in raw.getvalue()


# -- stats -----------------------------------------------------------------------------------------


def test_stats(archive, everything):
    stats = archive_stats(archive)
    assert stats["articles"] == len(everything)
    assert stats["versions"] == len(everything) + 2
    assert stats["changed_articles"] == 2
    assert dict(stats["top_changed_fields"]) == {"title": 1, "body": 1, "paywall_percent": 1}
    assert sum(stats["changes_per_day"].values()) == 2
    assert stats["paywalled"] == sum(1 for r in everything if r["paywalled"])
    assert 0 < stats["paywall_share"] < 1
    assert dict(stats["top_authors"])["Andrzej Łomanowski"] >= 1
