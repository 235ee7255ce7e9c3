"""The scheduler's pre-started crawl process: the next run's `newsmon crawl --wait-for-start`
is started ahead and loads everything, then crawls when told to go. Real processes, real
crawls of the replica."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from newsmon.scheduler import CrawlSupervisor, ScheduleOptions
from storage import Archive
from storage.query import list_runs
from tests.crawl.helpers import REPO
from tests.schedule.helpers import crawl_processes

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


def test_preloading_reads_no_configuration():
    """What a waiting crawl process loads must not read the configuration, or a setting
    changed while it waits would be ignored by its run (crawler.settings reads it on import)."""
    code = (
        "import sys\n"
        "from newsmon.cli import build_parser\n"
        "build_parser().parse_args(['crawl', '--wait-for-start'])\n"
        "from newsmon.crawl import preload\n"
        "preload()\n"
        "import crawler.config as c\n"
        "assert 'scrapy.crawler' in sys.modules and 'crawler.spiders.site' in sys.modules\n"
        "print(c._current_config.cache_info().currsize, c._current_profile.cache_info().currsize,"
        " 'crawler.settings' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "0", "False"]


def test_a_waiting_crawl_whose_input_ends_exits_without_a_run(tmp_path):
    db = tmp_path / "archive.db"
    proc = subprocess.run(
        [sys.executable, "-m", "newsmon", "crawl", "--wait-for-start", "--db", str(db)],
        cwd=REPO, input="", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert not db.exists()  # nothing opened, nothing recorded


def test_the_supervisor_runs_the_pre_started_process_and_starts_the_next(
        replica, sqlite_url, caplog):
    options = ScheduleOptions(db_url=sqlite_url, every=3, base_url=replica.base_url,
                              settings=[("DOWNLOAD_DELAY", "0"), ("AUTOTHROTTLE_ENABLED", "0")])
    supervisor = CrawlSupervisor(options, prestart=True)
    caplog.set_level(logging.INFO, logger="newsmon.schedule")
    try:
        supervisor.start_spare()
        [first] = crawl_processes(sqlite_url)
        assert supervisor.run_once() == 0
        # The run was the pre-started process's, and the next one waits already.
        assert f"crawl started (pid {first}, pre-started" in caplog.text
        [waiting] = crawl_processes(sqlite_url)
        assert waiting != first
    finally:
        supervisor.discard_spare()
    assert crawl_processes(sqlite_url) == []
    with Archive.open(sqlite_url) as archive:
        runs = list_runs(archive, limit=10)
    assert [(r["status"], r["trigger"]) for r in runs] == [("completed", "scheduled")]

