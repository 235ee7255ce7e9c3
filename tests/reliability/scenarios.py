"""Fault scenarios against the replica, shared by the reliability tests and
`bench/reliability.py`. Each scenario starts from the same baseline archive (one clean crawl
of the default site), injects one fault, crawls again with `--recheck all` and measures what
the archive kept: versions lost, bogus versions, errors recorded."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import Archive
from storage.models import Article, ArticleVersion
from tests.crawl.helpers import CrawlResult, crawl
from tests.replica import ReplicaServer, ReplicaSite

TARGET_CASE = "full_2026"  # the article most scenarios aim their fault at


@dataclass
class Scenario:
    name: str
    inject: Callable[[ReplicaServer, str], None]  # (server, target article id)
    settings: list[str] = field(default_factory=list)  # extra `newsmon crawl` arguments
    expect_kinds: tuple[str, ...] = ()  # error / outcome kinds the run must record
    expect_suspect: bool = False
    follow_up: Callable[[ReplicaServer, str], None] | None = None  # then crawl once more
    baseline: bool = True  # start from the baseline archive (else from an empty one)


@dataclass
class Outcome:
    scenario: str
    runs: list[dict[str, Any]]
    versions_lost: int
    bogus_versions: int
    results: list[CrawlResult]
    errors_by_kind: dict[str, int]
    requests: list[Any]
    db_url: str

    @property
    def completed(self) -> int:
        return sum(1 for r in self.runs if r["status"] == "completed")

    @property
    def errors(self) -> int:
        return sum(r["errors"] + r["parse_failures"] + r["suspect"] for r in self.runs)


def _full_fetch(kind: str, **opts):
    """A fault on the page body: the server must send the page, not a 304, to show it."""

    def inject(server, aid):
        server.send_validators = False
        server.faults.add(_art(aid), kind, **opts)

    return inject


def _hang(server, aid):
    server.faults.add(_art(aid), "hang")


def _art(aid: str) -> re.Pattern[str]:
    return re.compile(rf"/dyplomacja/art{aid}\b")


def _robots(server, aid):
    extra = f"\nUser-agent: *\nDisallow: /dyplomacja/art{aid}\n"
    server.site.robots_txt = server.site.robots_txt + extra


def _late_robots(server, _aid):
    # Every article page disallowed, and robots.txt answered a second late: the run's
    # re-checks are queued by then and all wait for it at once (Scrapy 2.19 let all but the
    # first of such waiters through unchecked; crawler/middlewares.py).
    server.site.robots_txt += "\nUser-agent: *\nDisallow: /dyplomacja/art\n"
    server.faults.add("/robots.txt", "slow", times=1, seconds=1.0)


def _remove(server, aid):
    server.site.remove_article(aid, status=410)


def _restore(server, aid):
    server.site.restore_article(aid)


def _variants(server, _aid):
    server.site.listing_variants = True


def _redesign(server, _aid):
    # New markup means new bytes and new validators: every page is fetched in full.
    server.send_validators = False
    server.redesign = True


def _new_article_behind_interstitial(server, _aid):
    new_id = server.site.add_article(title="Nowy artykuł, który serwer zasłania planszą zgody")
    server.faults.add(_art(new_id), "interstitial", variant="consent")


SCENARIOS: list[Scenario] = [
    Scenario("500 burst (2x, then OK)",
             lambda s, a: s.faults.add(_art(a), "status", times=2, status=500)),
    Scenario("503 persistent", lambda s, a: s.faults.add(_art(a), "status", status=503),
             expect_kinds=("http_503",)),
    Scenario("429 with Retry-After",
             lambda s, a: s.faults.add(_art(a), "retry_after", times=2, status=429, seconds=1)),
    Scenario("connection reset mid-body", _full_fetch("reset"),
             expect_kinds=("connection_lost",)),
    Scenario("response never arrives", _hang,
             settings=["-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1"],
             expect_kinds=("timeout",)),
    Scenario("truncated HTML", _full_fetch("truncate", share=0.9),
             expect_suspect=True),
    Scenario("ISO-8859-2 declared as UTF-8",
             _full_fetch("charset", encoding="iso-8859-2", declare="wrong")),
    Scenario("Windows-1250, no charset",
             _full_fetch("charset", encoding="windows-1250", declare="missing")),
    Scenario("consent interstitial (200)",
             lambda s, a: s.faults.add(_art(a), "interstitial", variant="consent"),
             expect_suspect=True),
    Scenario("subscribe interstitial (200)",
             lambda s, a: s.faults.add(_art(a), "interstitial", variant="subscribe"),
             expect_suspect=True),
    Scenario("new article behind an interstitial", _new_article_behind_interstitial,
             expect_suspect=True),
    Scenario("redirect loop", lambda s, a: s.faults.add(_art(a), "redirect_loop"),
             expect_kinds=("redirect_loop",)),
    Scenario("redirect to another host",
             lambda s, a: s.faults.add(_art(a), "redirect",
                                       location="https://evil.example/dyplomacja/art1-x"),
             expect_kinds=("offsite",)),
    Scenario("soft 404 (200 error page)", lambda s, a: s.faults.add(_art(a), "soft404"),
             expect_suspect=True),
    Scenario("removed (410), then restored", _remove, follow_up=_restore),
    Scenario("oversized page", lambda s, a: s.faults.add(_art(a), "oversize", size=3 << 20),
             settings=["-s", "DOWNLOAD_MAXSIZE=2097152"], expect_kinds=("oversize",)),
    Scenario("robots.txt disallows the article", _robots),
    Scenario("robots.txt answered late, every article disallowed", _late_robots),
    Scenario("listing links one article 3 ways", _variants, baseline=False),
    Scenario("redesign (renamed CSS classes)", _redesign, expect_suspect=True),
]


def snapshot(db_url: str) -> dict[str, list[tuple[int, str]]]:
    """article id -> [(version, content hash), ...]: what must never be lost or altered."""
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        rows = s.execute(
            select(Article.article_id, ArticleVersion.version, ArticleVersion.content_hash)
            .join(ArticleVersion, ArticleVersion.article_id == Article.id)
            .order_by(Article.article_id, ArticleVersion.version)
        ).all()
    result: dict[str, list[tuple[int, str]]] = {}
    for aid, version, digest in rows:
        result.setdefault(aid, []).append((version, digest))
    return result


def build_baseline(server: ReplicaServer, path: Path) -> str:
    """An archive of one clean crawl of the default site, at `path`."""
    reset(server)
    url = f"sqlite:///{path}"
    result = crawl(server.base_url, url)
    if result.returncode != 0:
        raise RuntimeError(f"baseline crawl failed: {result.stderr[-2000:]}")
    # Fold the WAL into the main file so that copying the file copies the whole archive.
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return url


def reset(server: ReplicaServer) -> None:
    server.site = ReplicaSite.default()
    server.faults.clear()
    server.send_validators = True
    server.clear_log()


def run_scenario(server: ReplicaServer, baseline: Path, workdir: Path,
                 scenario: Scenario) -> Outcome:
    reset(server)
    db_path = workdir / "archive.db"
    if scenario.baseline:
        shutil.copyfile(baseline, db_path)
    db_url = f"sqlite:///{db_path}"
    before = snapshot(db_url) if scenario.baseline else {}
    target = server.site.case(TARGET_CASE).article_id
    scenario.inject(server, target)
    results = [crawl(server.base_url, db_url, "--recheck", "all", *scenario.settings)]
    if scenario.follow_up is not None:
        time.sleep(0.01)
        scenario.follow_up(server, target)
        results.append(crawl(server.base_url, db_url, "--recheck", "all", *scenario.settings))
    after = snapshot(db_url)
    lost = sum(1 for aid, versions in before.items() for v in versions
               if v not in after.get(aid, []))
    new_versions = sum(len(v) for v in after.values()) - sum(len(v) for v in before.values())
    # Every scenario serves unchanged content, so every new version is bogus, except first
    # versions of articles the archive did not know yet (the url-variants scenario).
    first_versions = sum(1 for aid in after if aid not in before)
    with Archive.open(db_url) as archive:
        runs = [archive.get_run(r.run["id"]) for r in results if r.run]
    kinds: dict[str, int] = {}
    for run in runs:
        for kind, count in (run.get("errors_by_kind") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + count
    return Outcome(scenario.name, runs, lost, new_versions - first_versions, results, kinds,
                   list(server.requests), db_url)
