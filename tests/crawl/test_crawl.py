"""The crawl-and-archive acceptance: real `newsmon crawl` runs against the replica, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import re

import pytest

from tests.crawl.helpers import articles, crawl, versions

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

SECTION_ARTICLE = re.compile(r"^/dyplomacja/art\d+")
DISCOVERY_PATHS = {"/robots.txt", "/rss_main", "/sitemaps/sitemap.xml",
                   "/sitemaps/news-sitemap.xml"}


def section_ids(replica) -> set[str]:
    disallowed = set(replica.site.cases["robots_disallowed"])
    return {a.article_id for a in replica.site.live_articles()} - disallowed


def test_first_crawl_archives_every_section_article_once(replica, db_url):
    result = crawl(replica.base_url, db_url)
    assert result.returncode == 0, result.stderr
    run = result.run
    expected = section_ids(replica)
    archived = articles(db_url)
    assert set(archived) == expected
    assert all(a["versions"] == 1 and a["status"] == "live" for a in archived.values())
    assert run["status"] == "completed"
    assert run["new_articles"] == run["new_versions"] == run["pages_fetched"] == len(expected)
    assert run["errors"] == 0 and run["parse_failures"] == 0
    assert run["robots_skipped"] == 1

    paths = [r.path for r in replica.requests]
    # Each article fetched once, though listing, sitemap and RSS all link it.
    article_paths = [p for p in paths if SECTION_ARTICLE.match(p)]
    assert len(article_paths) == len(expected)
    # Nothing outside the section: only discovery sources, listing pages and its articles.
    outside = [p for p in paths if not (SECTION_ARTICLE.match(p) or p in DISCOVERY_PATHS
                                        or p.startswith("/dyplomacja"))]
    assert outside == []
    disallowed = replica.site.cases["robots_disallowed"][0]
    assert not any(disallowed in p for p in paths)
    # Identifiable client on every request.
    assert all("newsmon" in r.headers.get("User-Agent", "") for r in replica.requests)


def test_edits_additions_removal_then_nothing(replica, db_url):
    site = replica.site
    assert crawl(replica.base_url, db_url).returncode == 0

    seed = site.case("seed").article_id
    full = site.case("full_2026").article_id
    meter = site.case("meter_2025_jeszcze").article_id
    removed = site.case("no_author").article_id
    site.edit_title(full, "Nowy tytuł po publikacji: ambasador ujawnia kulisy rozmów")
    old_sentence = site.expected(seed)["body_blocks"][0].split(". ")[0]
    site.replace_text(seed, old_sentence, "Zdanie zmienione przez redakcję po publikacji")
    site.set_paywall_percent(meter, 55)
    new_ids = [site.add_article(title="Nowy artykuł numer jeden o dyplomacji"),
               site.add_article(title="Drugi nowy artykuł o rozmowach w Genewie")]
    site.remove_article(removed, status=410)

    second = crawl(replica.base_url, db_url, "--recheck", "all")
    assert second.returncode == 0, second.stderr
    run = second.run
    assert run["new_articles"] == 2
    assert run["new_versions"] == 3 + 2  # three edits, plus the first versions of the new two
    assert run["gone"] == 1
    archived = articles(db_url)
    assert archived[removed]["status"] == "gone" and archived[removed]["versions"] == 1
    assert all(archived[i]["versions"] == 1 for i in new_ids)
    changed = {aid: versions(db_url, aid)[-1]["changed_fields"] for aid in (seed, full, meter)}
    assert changed[full] == ["title"]
    assert changed[seed] == ["body"]
    assert changed[meter] == ["paywall_percent"]
    assert sum(a["versions"] for a in archived.values()) == len(archived) + 3

    replica.clear_log()
    third = crawl(replica.base_url, db_url, "--recheck", "all")
    assert third.returncode == 0, third.stderr
    assert third.run["new_versions"] == 0 and third.run["new_articles"] == 0
    # Validators were stored, so unchanged live pages answer 304.
    live = [a for a, row in articles(db_url).items() if row["status"] == "live"]
    assert third.run["not_modified"] == len(live)
    assert sum(1 for r in replica.requests if r.status == 304) == len(live)


def test_furniture_and_preview_only_create_no_version(replica, db_url):
    site = replica.site
    assert crawl(replica.base_url, db_url).returncode == 0
    seed = site.case("seed").article_id
    other = site.case("full_2026").article_id
    site.reshuffle_furniture(seed)
    site.reshuffle_furniture(other)
    site.serve_preview_only(seed)
    result = crawl(replica.base_url, db_url, "--recheck", "all")
    assert result.returncode == 0, result.stderr
    assert result.run["new_versions"] == 0
    assert result.run["unchanged"] == 2  # fetched in full (new ETag), judged unchanged
    assert articles(db_url)[seed]["versions"] == 1


def test_recheck_none_fetches_only_new_articles(replica, sqlite_url):
    assert crawl(replica.base_url, sqlite_url).returncode == 0
    new_id = replica.site.add_article(title="Świeży artykuł o szczycie w Wilnie")
    replica.clear_log()
    result = crawl(replica.base_url, sqlite_url, "--recheck", "none")
    assert result.returncode == 0
    fetched = [r.path for r in replica.requests if SECTION_ARTICLE.match(r.path)]
    assert len(fetched) == 1 and new_id in fetched[0]
    assert result.run["new_articles"] == 1


def test_changed_slug_is_the_same_article(replica, sqlite_url):
    assert crawl(replica.base_url, sqlite_url).returncode == 0
    aid = replica.site.case("full_2026").article_id
    replica.site.edit(aid, slug="zmieniony-adres-artykulu")
    result = crawl(replica.base_url, sqlite_url, "--recheck", "all")
    assert result.returncode == 0
    row = articles(sqlite_url)[aid]
    assert row["url"].endswith(f"/dyplomacja/art{aid}-zmieniony-adres-artykulu")
    assert row["versions"] == 1


def test_max_articles_limits_the_run(replica, sqlite_url):
    result = crawl(replica.base_url, sqlite_url, "--max-articles", "3")
    assert result.returncode == 0
    assert result.run["pages_fetched"] == 3
    assert len(articles(sqlite_url)) == 3


def test_site_down_is_a_failed_run_with_nonzero_exit(sqlite_url, unused_port):
    result = crawl(f"http://127.0.0.1:{unused_port}", sqlite_url)
    assert result.returncode == 1
    assert result.run["status"] == "failed"
    assert result.run["errors"] >= 1


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_scrapy_crawl_from_the_repository_root(replica, tmp_path):
    import subprocess
    import sys

    from tests.crawl.helpers import REPO

    db_path = tmp_path / "scrapy.db"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "rp", "-a", f"base_url={replica.base_url}",
         "-s", f"NEWSMON_DB={db_path}", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-L", "WARNING"],
        cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    db_url = f"sqlite:///{db_path}"
    assert set(articles(db_url)) == section_ids(replica)
    # The same archive is then readable and writable by the newsmon CLI.
    again = crawl(replica.base_url, db_url, "--recheck", "all")
    assert again.returncode == 0 and again.run["new_versions"] == 0
    assert again.run["not_modified"] == len(section_ids(replica))


def test_due_recheck_follows_the_revisit_policy(replica, sqlite_url):
    # Replica articles are months old (past the 90-day horizon) except one published now,
    # which the first tier re-checks on every run.
    assert crawl(replica.base_url, sqlite_url).returncode == 0
    fresh = replica.site.add_article(title="Artykuł opublikowany przed chwilą")
    assert crawl(replica.base_url, sqlite_url).returncode == 0
    replica.clear_log()
    result = crawl(replica.base_url, sqlite_url, "--recheck", "due")
    assert result.returncode == 0
    fetched = [r.path for r in replica.requests if SECTION_ARTICLE.match(r.path)]
    assert len(fetched) == 1 and f"art{fresh}" in fetched[0]
    assert result.run["not_modified"] == 1
