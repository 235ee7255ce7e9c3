"""Issue 15's acceptance with real components: `newsmon sites add` against the WordPress-like
and the RSS-only site, then one `newsmon crawl` of all three sites (with the rp.pl replica) into
one archive, on SQLite and PostgreSQL. One crawl's archive serves every assertion: records
against each site's ground truth (word F1 of the body), no version from a second crawl, one
from an edit and only on its site, a site that is down failing only its own run."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import Archive
from storage.models import Article, ArticleVersion, Site
from tests.crawl.helpers import FAST, newsmon
from tests.replica import ReplicaServer, ReplicaSite
from tests.sites import SiteServer, plain_site, wp_site

pytestmark = pytest.mark.slow  # crawls and commands in subprocesses


def word_f1(got: str, truth: str) -> float:
    a, b = Counter(re.findall(r"\w+", got.lower())), Counter(re.findall(r"\w+", truth.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def current_records(db_url: str) -> dict[str, dict[str, dict]]:
    """site -> article id -> {record fields of the current version, versions}."""
    out: dict[str, dict[str, dict]] = {}
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        rows = s.execute(select(Site.name, Article, ArticleVersion)
                         .join(Article, Article.site_id == Site.id)
                         .join(ArticleVersion, (ArticleVersion.article_id == Article.id)
                               & (ArticleVersion.version == Article.current_version)))
        for site, article, version in rows:
            out.setdefault(site, {})[article.article_id] = {
                "title": version.title, "authors": version.authors, "body": version.body or "",
                "published_at": version.published_at, "paywalled": version.paywalled,
                "versions": article.current_version}
    return out


def as_utc(value: datetime) -> datetime:
    # SQLite keeps naive UTC, PostgreSQL an aware instant.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def crawl_all(config, db_url, *args):
    proc = newsmon("crawl", "--db", db_url, "--json", *FAST, *args,
                   env={"NEWSMON_CONFIG_DIR": str(config)}, timeout=180)
    runs = {run["site"]: run for run in map(json.loads, filter(None, proc.stdout.splitlines()))}
    return proc, runs


@pytest.fixture
def three_sites(tmp_path):
    """(config dir, servers by site): the test sites added by `newsmon sites add`, the rp.pl
    replica as the configured rp profile's address, [crawl].sites naming all three."""
    config = tmp_path / "config"
    (config / "sites").mkdir(parents=True)
    with SiteServer(wp_site()) as wp, SiteServer(plain_site()) as plain, \
            ReplicaServer(ReplicaSite.default()) as rp:
        env = {"NEWSMON_CONFIG_DIR": str(config)}
        for args in ((wp.base_url, "--name", "wp", "--section", "/world/"),
                     (plain.base_url, "--name", "plain")):
            added = newsmon("sites", "add", *args, env=env)
            assert added.returncode == 0, added.stderr
        host = rp.base_url.split("//", 1)[1]
        (config / "sites" / "rp.toml").write_text(
            f'[site]\nbase_url = "{rp.base_url}"\nallowed_hosts = ["{host}"]\n')
        (config / "newsmon.toml").write_text('[crawl]\nsites = ["rp", "wp", "plain"]\n')
        yield config, {"wp": wp, "plain": plain, "rp": rp}


def test_three_sites_in_one_archive(three_sites, db_url):
    config, servers = three_sites
    proc, runs = crawl_all(config, db_url)
    assert proc.returncode == 0, proc.stderr
    assert sorted(runs) == ["plain", "rp", "wp"]
    assert all(r["status"] == "completed" and not r["degraded"] for r in runs.values()), runs
    archive = current_records(db_url)

    # Every article of the section, each field as the site's ground truth has it.
    for name, section in (("wp", "world"), ("plain", "news")):
        site = servers[name].site
        stories = site.in_section(section)
        assert set(archive[name]) == {s.key for s in stories}
        for story in stories:
            got, truth = archive[name][story.key], site.expected(story.key)
            assert got["title"] == truth["title"]
            assert got["authors"] == truth["authors"]
            assert as_utc(got["published_at"]) == datetime.fromisoformat(truth["published_at"])
            assert word_f1(got["body"], truth["body"]) >= 0.95, story.key
            assert got["paywalled"] == truth["paywalled"]
    assert any(r["paywalled"] for r in archive["wp"].values())
    rp_live = {a.article_id for a in servers["rp"].site.live_articles()}
    rp_live -= set(servers["rp"].site.cases["robots_disallowed"])
    assert set(archive["rp"]) == rp_live

    # A second crawl re-fetching everything makes no version anywhere.
    proc, runs = crawl_all(config, db_url, "--recheck", "all")
    assert proc.returncode == 0, proc.stderr
    assert {name: run["new_versions"] for name, run in runs.items()} == \
        {"rp": 0, "wp": 0, "plain": 0}

    # An edit on one site makes one version there and nowhere else.
    edited = servers["wp"].site.in_section("world")[0]
    servers["wp"].site.edit(edited.key, title=edited.title + " (updated)")
    proc, runs = crawl_all(config, db_url, "--recheck", "all")
    assert {name: run["new_versions"] for name, run in runs.items()} == \
        {"rp": 0, "wp": 1, "plain": 0}
    after = current_records(db_url)
    assert after["wp"][edited.key]["versions"] == 2
    assert after["wp"][edited.key]["title"] == edited.title
    assert sum(a["versions"] for s in after.values() for a in s.values()) == \
        sum(a["versions"] for s in archive.values() for a in s.values()) + 1

    # A site that is down fails its own run only.
    servers["plain"].down = True
    proc, runs = crawl_all(config, db_url, "--recheck", "all")
    assert proc.returncode == 1
    assert {name: run["status"] for name, run in runs.items()} == \
        {"rp": "completed", "wp": "completed", "plain": "failed"}

    # The runs, the health report and the article listings carry and filter by site.
    env = {"NEWSMON_CONFIG_DIR": str(config)}
    listed = newsmon("runs", "--db", db_url, "--site", "plain", "--json", env=env)
    assert [r["site"] for r in json.loads(listed.stdout)] == ["plain"] * 4
    health = newsmon("health", "--db", db_url, "--site", "wp", "--json", env=env)
    assert health.returncode == 0 and {r["site"] for r in json.loads(health.stdout)["runs"]} \
        == {"wp"}
    articles = newsmon("articles", "--db", db_url, "--site", "wp", "--json", env=env)
    assert {a["article_id"] for a in json.loads(articles.stdout)} == set(archive["wp"])

    # An article named with its site: read among that site's articles only.
    shown = newsmon("show", edited.key, "--site", "wp", "--json", "--db", db_url, env=env)
    assert shown.returncode == 0, shown.stderr
    assert (json.loads(shown.stdout)["site"], json.loads(shown.stdout)["version"]) == ("wp", 2)
    assert newsmon("versions", edited.key, "--site", "plain", "--db", db_url,
                   env=env).returncode == 2

    # And so does the web interface's API.
    from tests.web.conftest import Server

    web = Server(db_url, "--workers", "1")
    try:
        listed = web.get("/api/articles", params={"site": "wp", "limit": 100}).json()
        assert {a["article_id"] for a in listed} == set(archive["wp"])
        assert {r["site"] for r in web.get("/api/runs", params={"site": "plain"}).json()} == \
            {"plain"}
        changes = web.get("/api/changes", params={"site": "wp"}).json()["changes"]
        assert changes and {c["site"] for c in changes} == {"wp"}
        web_pages_filter_by_site(web, edited, servers)
    finally:
        web.stop()


def web_pages_filter_by_site(web, edited, servers) -> None:
    """The HTML pages and feeds over the three-site archive: a site selector, each item's
    site named, and site= narrowing changes, search, runs and the Atom feeds."""
    import feedparser
    import lxml.html

    def page(path, **params):
        response = web.get(path, params=params)
        assert response.status_code == 200, (path, params, response.text[:500])
        return lxml.html.fromstring(response.text)

    for path in ("/", "/search", "/runs"):
        options = page(path).xpath("//select[@name='site']/option/@value")
        assert options == ["", "plain", "rp", "wp"], path
    everything = page("/")
    assert "wp" in everything.xpath("//table[@class='changes']//span[@class='site']/text()")
    only_wp = page("/", site="wp")
    assert only_wp.xpath("//select[@name='site']/option[@selected]/@value") == ["wp"]
    titles = only_wp.xpath("//table[@class='changes']/tbody/tr/td[2]/a/text()")
    assert titles == [edited.title]
    assert set(only_wp.xpath("//table[@class='changes']//span[@class='site']/text()")) == \
        {"wp"}
    assert only_wp.xpath("//p[@class='empty']") == []
    assert page("/", site="plain").xpath("//p[@class='empty']/text()") == ["No changes match."]
    # Search: a word of the generated English text, on wp and plain alike.
    word = edited.title.split()[0].lower()
    hit_sites = {name: page("/search", q=word, site=name).xpath(
        "//ol[@class='hits']//span[@class='site']/text()") for name in ("", "wp", "plain")}
    assert {"wp", "plain"} <= set(hit_sites[""])
    assert hit_sites["wp"] and set(hit_sites["wp"]) == {"wp"}
    assert hit_sites["plain"] and set(hit_sites["plain"]) == {"plain"}
    runs = page("/runs", site="plain").xpath("//table[@class='runs']//td[@class='site']/text()")
    assert runs == ["plain"] * 4
    assert {"rp", "wp", "plain"} == set(page("/runs").xpath(
        "//table[@class='runs']//td[@class='site']/text()"))
    # The feeds: the wp edit in wp's changes only; new articles of one site.
    for site, count in (("wp", 1), ("plain", 0)):
        feed = feedparser.parse(web.get("/feeds/changes.atom", params={"site": site}).content)
        assert not feed.bozo and len(feed.entries) == count, site
    new = feedparser.parse(web.get("/feeds/new.atom", params={"site": "plain"}).content)
    assert new.entries and {e.id.split(":")[2] for e in new.entries} == {"plain"}


def test_scrapy_crawl_news_takes_any_profile(three_sites, sqlite_url):
    import subprocess
    import sys

    from tests.crawl.helpers import REPO

    config, servers = three_sites
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=plain",
         "-s", f"NEWSMON_DB={sqlite_url}", *FAST], cwd=REPO, capture_output=True, text=True,
        timeout=180, env={**os.environ, "NEWSMON_CONFIG_DIR": str(config)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(current_records(sqlite_url)) == {"plain"}
    assert set(current_records(sqlite_url)["plain"]) == {s.key for s in servers["plain"].site
                                                         .stories}


def test_two_profiles_of_one_host_are_crawled_one_after_the_other(tmp_path, sqlite_url):
    config = tmp_path / "config"
    config.mkdir()
    env = {"NEWSMON_CONFIG_DIR": str(config)}
    with SiteServer(wp_site()) as wp:
        for name, section in (("world", "/world/"), ("business", "/business/")):
            added = newsmon("sites", "add", wp.base_url, "--name", name, "--section", section,
                            env=env)
            assert added.returncode == 0, added.stderr
        proc, runs = crawl_all(config, sqlite_url, "--site", "world", "--site", "business")
    assert proc.returncode == 0, proc.stderr
    first, second = sorted(runs.values(), key=lambda r: r["started_at"])
    assert first["finished_at"] <= second["started_at"], runs  # one host: one crawl at a time
    archive = current_records(sqlite_url)
    assert {name: set(archive[name]) for name in archive} == {
        name: {s.key for s in wp.site.in_section(name)} for name in ("world", "business")}
