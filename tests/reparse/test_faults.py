"""Re-parsing under bad input and faults: stored pages missing or corrupt (reported, skipped,
exit 1 with a count), a SIGKILL in the middle (whole articles or nothing, `db check` passes,
the rerun resumes and completes), and a crawl writing the same archive at the same time."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from storage import Archive
from storage.models import Article, ArticleVersion, SupersededRecord
from storage.query import list_versions
from tests.crawl.helpers import REPO, newsmon
from tests.reparse.helpers import (
    BROKEN_CAPTION,
    config_dir,
    crawl_with,
    later,
    profile,
    reparse_cli,
    store,
)
from tests.replica import ReplicaSite


def _archive(path, articles: int) -> tuple[str, ReplicaSite, list[str]]:
    """An SQLite archive of `articles` replica pages archived with a broken caption selector
    (every record is corrected by a re-parse with the shipped profile)."""
    db = f"sqlite:///{path}"
    site = ReplicaSite.generated(articles) if articles > 32 else ReplicaSite.default()
    ids = [a.article_id for a in site.live_articles()][:articles]
    broken = profile(BROKEN_CAPTION)
    with Archive.open(db) as archive:
        for n, aid in enumerate(ids):
            store(archive, site, aid, broken, later(n))
    return db, site, ids


def _page_of(db: str, aid: str) -> str:
    with Archive.open(db) as archive, Session(archive.engine) as s:
        return s.scalar(select(ArticleVersion.raw_page_sha).join(Article).where(
            Article.article_id == aid))


def test_missing_or_corrupt_pages_are_reported_and_skipped(tmp_path):
    db, _, ids = _archive(tmp_path / "a.db", 5)
    garbage, swapped, missing = ids[:3]
    pages = {aid: _page_of(db, aid) for aid in ids}
    with Archive.open(db) as archive, archive.engine.begin() as conn:
        conn.execute(text("UPDATE raw_pages SET data = :d WHERE sha256 = :s"),
                     {"d": b"\x28\xb5\x2f\xfd not zstd at all", "s": pages[garbage]})
        # Another page's bytes: they decompress, but are not the page the version names.
        conn.execute(text("UPDATE raw_pages SET data = (SELECT data FROM raw_pages WHERE "
                          "sha256 = :other), size = (SELECT size FROM raw_pages WHERE "
                          "sha256 = :other) WHERE sha256 = :s"),
                     {"other": pages[ids[4]], "s": pages[swapped]})
        conn.execute(text("UPDATE article_versions SET raw_page_sha = NULL WHERE article_id = "
                          "(SELECT id FROM articles WHERE article_id = :a)"), {"a": missing})
    proc, report = reparse_cli(db, "--workers", "0")
    assert proc.returncode == 1, proc.stderr
    assert "3 page(s) skipped" in proc.stderr
    reasons = {s["article_id"]: s["reason"] for s in report["skipped"]}
    assert "cannot be read" in reasons[garbage]
    assert "does not match its hash" in reasons[swapped]
    assert "missing" in reasons[missing]
    # The rest went on: the two readable pages were corrected.
    assert (report["counts"]["pages"], report["counts"]["changed"]) == (5, 2)
    human = newsmon("reparse", "--db", db, "--workers", "0")
    assert human.returncode == 1 and f"article {garbage} v1" in human.stderr


@pytest.mark.slow
def test_sigkill_leaves_whole_articles_and_the_rerun_completes(tmp_path):
    # Over 64 pages: the later ones are stored with the archive's compression dictionary,
    # which the worker processes must be given.
    path = tmp_path / "a.db"
    db, _, ids = _archive(path, 90)
    proc = subprocess.Popen([sys.executable, "-m", "newsmon", "reparse", "--db", db,
                             "--batch", "3"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    cursor = 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        while proc.poll() is None and not cursor:
            time.sleep(0.02)
            row = conn.execute("SELECT cursor FROM reparse_jobs").fetchone()
            cursor = row[0] if row else 0
        proc.send_signal(signal.SIGKILL)  # at once, a batch's transaction may be under way
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the re-parse ended before it could be killed"
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fixed = profile().fingerprint
    with Archive.open(db) as archive:
        assert archive.check() == []
        with Session(archive.engine) as s:
            done = s.scalar(select(func.count()).where(ArticleVersion.parser_fingerprint == fixed))
            kept = s.scalar(select(func.count()).select_from(SupersededRecord))
    assert 0 < done < len(ids) and kept == done  # whole articles: one version each here

    proc, report = reparse_cli(db)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert report["resumed_after"] >= cursor
    assert report["counts"]["changed"] == len(ids)  # running totals kept across the kill
    with Archive.open(db) as archive:
        assert archive.check() == []
        with Session(archive.engine) as s:
            assert s.scalar(select(func.count()).select_from(SupersededRecord)) == len(ids)
            assert set(s.scalars(select(ArticleVersion.parser_fingerprint))) == {fixed}
    proc, again = reparse_cli(db)
    assert proc.returncode == 0 and again["resumed_after"] is None
    assert again["counts"]["changed"] == 0


@pytest.mark.slow
def test_a_reparse_beside_a_running_crawl(replica, tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    broken = config_dir(tmp_path / "broken", selectors=BROKEN_CAPTION)
    first = crawl_with(replica.base_url, db, config=broken)
    assert first.returncode == 0, first.stderr[-2000:]
    replica.send_validators = False
    # The fixed profile, from both sides at once: the crawl records captions as versions
    # while the re-parse corrects the versions 1 and marks whatever the crawl added.
    crawl = subprocess.Popen(
        [sys.executable, "-m", "newsmon", "crawl", "--base-url", replica.base_url, "--db", db,
         "--recheck", "all", "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc, report = reparse_cli(db, "--batch", "2")
    out, err = crawl.communicate(timeout=300)
    assert crawl.returncode == 0, err[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    with Archive.open(db) as archive:
        assert archive.check() == []
        for aid in {a.article_id for a in replica.site.live_articles()} & set(_ids(db)):
            shown = list_versions(archive, aid)  # artefacts hidden
            assert len(shown) == 1, (aid, shown)
    proc, again = reparse_cli(db)
    assert proc.returncode == 0
    assert again["counts"]["changed"] == again["counts"]["events_added"] == 0


def _ids(db: str) -> list[str]:
    with Archive.open(db) as archive, Session(archive.engine) as s:
        return list(s.scalars(select(Article.article_id)))


def test_one_reparse_at_a_time(tmp_path):
    db, _, _ = _archive(tmp_path / "a.db", 2)
    with Archive.open(db) as archive:
        assert archive.acquire_lease("reparse", holder="elsewhere:1", ttl=600)
        proc, report = reparse_cli(db, "--workers", "0")
        assert proc.returncode == 1 and "another re-parse is running" in proc.stderr
        assert report is None
        # A dry run writes nothing, so it needs no lease.
        proc, dry = reparse_cli(db, "--workers", "0", "--dry-run")
        assert proc.returncode == 0 and dry["counts"]["changed"] == 2
        assert archive.release_lease("reparse", holder="elsewhere:1")
    proc, report = reparse_cli(db, "--workers", "0")
    assert proc.returncode == 0 and report["counts"]["changed"] == 2
