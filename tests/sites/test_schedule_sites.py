"""The daemon with several sites: each on its profile's own interval, crawls of different
sites bounded by --max-concurrent, never two of one site (real daemon, real crawls)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from storage import Archive
from storage.query import list_runs
from tests.crawl.helpers import FAST, REPO, newsmon
from tests.schedule.test_schedule import wait_until
from tests.sites import SiteServer, plain_site, wp_site

pytestmark = pytest.mark.slow  # a daemon and its crawls in subprocesses


def runs_of(db_url):
    with Archive.open(db_url) as archive:
        return list_runs(archive, limit=200)


def overlapping(runs) -> bool:
    spans = sorted((r["started_at"], r["finished_at"]) for r in runs)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


def test_two_sites_on_their_own_intervals_one_crawl_at_a_time(tmp_path, sqlite_url):
    config = tmp_path / "config"
    (config / "sites").mkdir(parents=True)
    env = {"NEWSMON_CONFIG_DIR": str(config)}
    with SiteServer(wp_site()) as wp, SiteServer(plain_site()) as plain:
        for base, name in ((wp.base_url, "wp"), (plain.base_url, "plain")):
            assert newsmon("sites", "add", base, "--name", name, env=env).returncode == 0
        for name, every in (("wp", 2), ("plain", 3)):
            with open(config / "sites" / f"{name}.toml", "a", encoding="utf-8") as profile:
                profile.write(f"\n[schedule]\nevery = {every}\njitter = 0\n")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "newsmon", "schedule", "--site", "wp", "--site", "plain",
             "--max-concurrent", "1", "--db", sqlite_url, *FAST], cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def both_ran_twice():
                done = [r["site"] for r in runs_of(sqlite_url) if r["status"] == "completed"]
                return done.count("wp") >= 2 and done.count("plain") >= 2
            assert wait_until(both_ran_twice, timeout=90), runs_of(sqlite_url)
        finally:
            daemon.send_signal(signal.SIGTERM)
            _out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    runs = [r for r in runs_of(sqlite_url) if r["finished_at"]]
    assert {r["trigger"] for r in runs} == {"scheduled"}
    assert not overlapping(runs), runs  # --max-concurrent 1: one crawl at a time overall
    assert "site wp" in err and "site plain" in err
