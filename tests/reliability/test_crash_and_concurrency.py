"""Crash safety (SIGKILL at random moments) and two crawls writing one SQLite archive at once."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from storage import Archive
from storage.query import list_runs
from tests.crawl.helpers import FAST, REPO, articles, crawl

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


def _integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _check(db_url) -> list[str]:
    with Archive.open(db_url) as archive:
        return archive.check()


def _no_duplicates(db_url) -> None:
    for aid, row in articles(db_url).items():
        assert row["versions"] == row["current_version"], aid


def test_sigkill_at_random_moments_leaves_a_sound_archive(replica, tmp_path):
    path = tmp_path / "archive.db"
    db_url = f"sqlite:///{path}"
    rng = random.Random(20261127)
    # Slow the crawl down a little so that kills land at different stages: start-up,
    # discovery, article writes, closing.
    settings = ["-s", "DOWNLOAD_DELAY=0.02", "-s", "AUTOTHROTTLE_ENABLED=0"]
    delays = sorted(rng.uniform(0.8, 4.0) for _ in range(6))
    for trial, delay in enumerate(delays):
        if trial % 2:
            replica.site.edit_title(replica.site.case("full_2026").article_id,
                                    f"Tytuł po edycji numer {trial}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsmon", "crawl", "--base-url", replica.base_url,
             "--db", db_url, "--recheck", "all", *settings],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if path.exists():
            assert _integrity(path) == "ok", f"trial {trial} (kill after {delay:.2f}s)"
            assert _check(db_url) == [], f"trial {trial} (kill after {delay:.2f}s)"
    # The rerun finishes the work: every article archived, no duplicate, the killed runs
    # are closed as failed.
    final = crawl(replica.base_url, db_url, "--recheck", "all")
    assert final.returncode == 0, final.stderr
    assert _integrity(path) == "ok" and _check(db_url) == []
    _no_duplicates(db_url)
    live = {a.article_id for a in replica.site.live_articles()}
    live -= set(replica.site.cases["robots_disallowed"])
    assert set(articles(db_url)) == live
    with Archive.open(db_url) as archive:
        runs = list_runs(archive, limit=50)
    assert runs[0]["status"] == "completed"
    assert all(r["status"] in ("completed", "failed") for r in runs)


def test_two_unlocked_crawls_at_once_on_one_sqlite_file(replica, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'archive.db'}"
    edited = replica.site.case("seed").article_id

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "newsmon", "crawl", "--base-url", replica.base_url,
             "--db", db_url, "--recheck", "all", "--no-lock", "--json", *FAST],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    for round_ in range(2):
        if round_:
            replica.site.edit_title(edited, "Nagłówek zmieniony między rundami")
        first, second = start(), start()
        outputs = [p.communicate(timeout=180) for p in (first, second)]
        for proc, (_out, err) in zip((first, second), outputs, strict=True):
            assert proc.returncode == 0, err[-3000:]
            assert "database is locked" not in err
    assert _check(db_url) == []
    _no_duplicates(db_url)
    rows = articles(db_url)
    assert rows[edited]["versions"] == 2
    assert sum(r["versions"] for r in rows.values()) == len(rows) + 1
