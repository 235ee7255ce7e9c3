"""Crawling a copy of the site that keeps the real site's links (a mirror, a staging copy, a
saved site) through --base-url: requests go to the copy, the archive names the site's own
URLs, re-checks of known articles are conditional and answered 304 (issue 10, part 1)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import Archive
from storage.models import Article, ArticleVersion, FetchEvent
from storage.query import list_runs
from tests.crawl.helpers import FAST, REPO, articles, crawl
from tests.replica import ReplicaServer, ReplicaSite

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

RP = "https://www.rp.pl"
# Article pages of any section: known articles may live under their canonical section.
ARTICLE_PATH = re.compile(r"^/[a-z0-9/-]+/art\d+")


def section_ids(server: ReplicaServer) -> set[str]:
    disallowed = set(server.site.cases["robots_disallowed"])
    return {a.article_id for a in server.site.live_articles()} - disallowed


def newsmon_crawl(server: ReplicaServer, db_path, recheck: str = "due") -> tuple[int, dict, str]:
    result = crawl(server.base_url, f"sqlite:///{db_path}", "--recheck", recheck)
    return result.returncode, result.run, result.stderr


def scrapy_crawl(server: ReplicaServer, db_path, recheck: str = "due") -> tuple[int, dict, str]:
    """`scrapy crawl rp -a base_url=...` from the repository root; the run read back from
    the archive (Scrapy prints no run record)."""
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "rp", "-a", f"base_url={server.base_url}",
         "-a", f"recheck={recheck}", "-s", f"NEWSMON_DB={db_path}", *FAST, "-L", "WARNING"],
        cwd=REPO, capture_output=True, text=True, timeout=180)
    with Archive.open(f"sqlite:///{db_path}") as archive:
        run = list_runs(archive, limit=1)[0]
    return proc.returncode, run, proc.stderr[-3000:]


@pytest.fixture(params=["head", "all"])
def mirror(request):
    """The default site served keeping www.rp.pl links in the pages' head, or everywhere."""
    with ReplicaServer(ReplicaSite.default(), real_links=request.param) as server:
        yield server


def assert_clean(run: dict) -> None:
    assert run["status"] == "completed"
    assert run["errors"] == 0 and not run.get("errors_by_kind"), run.get("errors_by_kind")
    assert run["suspect"] == 0 and run["parse_failures"] == 0


def edit_add_then_recheck_twice(server: ReplicaServer, db_path,
                                crawl_once: Callable[..., tuple[int, dict, str]]) -> None:
    site = server.site
    n = len(section_ids(server))

    code, first, stderr = crawl_once(server, db_path)
    assert code == 0, stderr
    assert_clean(first)
    assert (first["new_articles"], first["new_versions"]) == (n, n)
    archived = articles(f"sqlite:///{db_path}")
    assert set(archived) == section_ids(server)
    # The archive names the site's own URLs, not the host the crawl talked to.
    assert all(a["url"].startswith(RP + "/dyplomacja/art") for a in archived.values())

    site.edit_title(site.case("full_2026").article_id,
                    "Nowy tytuł po publikacji: ambasador ujawnia kulisy rozmów")
    site.add_article(title="Nowy artykuł o rozmowach w Genewie")
    code, second, stderr = crawl_once(server, db_path, "all")
    assert code == 0, stderr
    assert_clean(second)
    assert (second["new_articles"], second["new_versions"]) == (1, 2)

    server.clear_log()
    code, third, stderr = crawl_once(server, db_path, "all")
    assert code == 0, stderr
    assert_clean(third)
    assert (third["new_articles"], third["new_versions"]) == (0, 0)
    requests = [r for r in server.requests if ARTICLE_PATH.match(r.path)]
    assert len(requests) == n + 1 == third["not_modified"]
    assert all("If-None-Match" in r.headers or "If-Modified-Since" in r.headers
               for r in requests)
    assert {r.status for r in requests} == {304}


def test_newsmon_crawl_of_a_mirror_with_real_links(mirror, tmp_path):
    edit_add_then_recheck_twice(mirror, tmp_path / "mirror.db", newsmon_crawl)


def test_scrapy_crawl_of_a_mirror_with_real_links(tmp_path):
    with ReplicaServer(ReplicaSite.default(), real_links="all") as server:
        edit_add_then_recheck_twice(server, tmp_path / "scrapy.db", scrapy_crawl)


@pytest.mark.parametrize("real_links", [None, "all"])
def test_canonical_link_in_another_section_or_on_another_host(real_links, tmp_path):
    site = ReplicaSite.default()
    moved = site.add_article(title="Wybory w Mołdawii. Dyplomaci liczą głosy")
    site.point_canonical(moved, "swiat")
    syndicated = site.add_article(title="Szczyt w Genewie oczami partnerów")
    foreign = f"https://www.parkiet.com/gospodarka-swiatowa/art{syndicated}-szczyt"
    site.point_canonical(syndicated, foreign)
    db_path = tmp_path / "canonical.db"
    with ReplicaServer(site, real_links=real_links) as server:
        code, first, stderr = newsmon_crawl(server, db_path)
        assert code == 0, stderr
        assert_clean(first)
        assert first["new_articles"] == len(section_ids(server))

        with Archive.open(f"sqlite:///{db_path}") as archive, Session(archive.engine) as s:
            url_of = dict(s.execute(select(Article.article_id, Article.url)).all())
            canonical_of = dict(s.execute(
                select(Article.article_id, ArticleVersion.canonical_url)
                .join(ArticleVersion, ArticleVersion.article_id == Article.id)).all())
            notes = dict(s.execute(
                select(Article.article_id, FetchEvent.message)
                .join(FetchEvent, FetchEvent.article_id == Article.id)
                .where(FetchEvent.run_id == first["id"])).all())
        # Another section of the same site: the canonical link is the article's URL.
        assert url_of[moved] == f"{RP}/swiat/art{moved}-{site.article(moved).slug}"
        assert notes[moved] is None
        # Another host: ignored as identity; the fetched URL is kept, and why is recorded.
        fetched = f"{RP}/dyplomacja/art{syndicated}-{site.article(syndicated).slug}"
        assert url_of[syndicated] == fetched
        assert notes[syndicated] == f"canonical link ignored (on another host): {foreign}"
        assert canonical_of[syndicated] == foreign  # what the page claimed, as parsed
        assert [aid for aid, note in notes.items() if note] == [syndicated]

        server.clear_log()
        code, second, stderr = newsmon_crawl(server, db_path, "all")
        assert code == 0, stderr
        assert_clean(second)
        assert (second["new_articles"], second["new_versions"]) == (0, 0)
        assert second["not_modified"] == first["new_articles"]
        # The known article is re-checked where its canonical link put it, on our host.
        moved_requests = [r for r in server.requests if f"art{moved}" in r.path]
        assert [(r.path.split("/art")[0], r.status) for r in moved_requests] == [("/swiat", 304)]
