"""The scheduler daemon against the replica: real `newsmon schedule` processes, real crawls."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from storage import Archive
from storage.query import list_runs
from tests.crawl.helpers import FAST, REPO, articles, crawl, newsmon
from tests.schedule.helpers import crawl_processes

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses


def schedule_cmd(replica, db_url, *args):
    return [sys.executable, "-m", "newsmon", "schedule", "--base-url", replica.base_url,
            "--db", db_url, *FAST, *args]


def start_daemon(replica, db_url, *args) -> subprocess.Popen:
    return subprocess.Popen(schedule_cmd(replica, db_url, *args), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def all_runs(db_url):
    with Archive.open(db_url) as archive:
        return list_runs(archive, limit=100)


def wait_until(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def assert_archive_sound(db_url):
    with Archive.open(db_url) as archive:
        assert archive.check() == []
    for row in articles(db_url).values():
        assert row["versions"] == row["current_version"]


def test_daemon_runs_on_interval_without_overlap_and_stops_on_sigterm(replica, sqlite_url):
    daemon = start_daemon(replica, sqlite_url, "--every", "2", "--jitter", "0")
    try:
        done = wait_until(
            lambda: len([r for r in all_runs(sqlite_url) if r["status"] == "completed"]) >= 3,
            timeout=40)
        assert done, all_runs(sqlite_url)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    runs = sorted(all_runs(sqlite_url), key=lambda r: r["started_at"])
    assert all(r["status"] != "running" for r in runs)
    assert all(r["trigger"] == "scheduled" for r in runs)
    finished = [r for r in runs if r["finished_at"]]
    for earlier, later in zip(finished, finished[1:], strict=False):
        assert earlier["finished_at"] <= later["started_at"], (earlier, later)
    assert "run 1 completed" in err  # one log line per run
    assert_archive_sound(sqlite_url)


def test_manual_crawl_during_scheduled_run_is_skipped(replica, sqlite_url):
    slow = replica.site.case("seed").article_id
    # One article answers after 10 s: the scheduled crawl is still running when ours starts.
    replica.faults.add(re.compile(f"/dyplomacja/art{slow}"), "slow", seconds=10)
    scheduled = subprocess.Popen(schedule_cmd(replica, sqlite_url, "--once"), cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: any(r["status"] == "running" for r in all_runs(sqlite_url)),
                          timeout=20)
        manual = crawl(replica.base_url, sqlite_url)
        assert manual.returncode == 0, manual.stderr
        assert manual.run["status"] == "skipped"
        assert manual.run["trigger"] == "manual"
        assert manual.run["pages_fetched"] == 0
    finally:
        scheduled.communicate(timeout=120)
    assert scheduled.returncode == 0
    statuses = {r["trigger"]: r["status"] for r in all_runs(sqlite_url)}
    assert statuses == {"scheduled": "completed", "manual": "skipped"}
    assert_archive_sound(sqlite_url)


def test_killed_daemon_recovers_on_restart(replica, sqlite_url):
    slow = replica.site.case("full_2026").article_id
    replica.faults.add(re.compile(f"/dyplomacja/art{slow}"), "hang", seconds=60)
    daemon = start_daemon(replica, sqlite_url, "--every", "1", "--jitter", "0")
    try:
        assert wait_until(lambda: any(r["status"] == "running" for r in all_runs(sqlite_url)),
                          timeout=30)
        time.sleep(1.0)  # mid-crawl: some articles written, one download hanging
    finally:
        daemon.kill()
        daemon.communicate(timeout=30)
    replica.faults.clear()
    # The crawl child dies with the daemon (PDEATHSIG); give the kernel a moment.
    time.sleep(0.5)
    restarted = subprocess.run(schedule_cmd(replica, sqlite_url, "--once"), cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert restarted.returncode == 0, restarted.stderr
    runs = sorted(all_runs(sqlite_url), key=lambda r: r["id"])
    assert runs[0]["status"] == "failed"  # the interrupted one
    assert runs[-1]["status"] == "completed"
    assert all(r["status"] != "running" for r in runs)
    assert_archive_sound(sqlite_url)
    with Archive.open(sqlite_url) as archive:
        # The lease is per site (crawler/extensions.py lease_name).
        lease = archive.lease_info("crawl:rp")
        assert lease is None or not lease.get("holder")


def test_hung_crawl_is_stopped_at_the_timeout(replica, sqlite_url):
    slow = replica.site.case("seed").article_id
    replica.faults.add(re.compile(f"/dyplomacja/art{slow}"), "hang")
    started = time.monotonic()
    result = subprocess.run(
        schedule_cmd(replica, sqlite_url, "--once", "--timeout", "6", "--stop-grace", "3",
                     "-s", "DOWNLOAD_TIMEOUT=120"),
        cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert elapsed < 60
    runs = all_runs(sqlite_url)
    assert len(runs) == 1
    assert runs[0]["status"] == "timed_out", runs[0]
    assert "timed_out" in result.stderr
    assert_archive_sound(sqlite_url)


def test_schedule_rejects_bad_cron(sqlite_url):
    proc = newsmon("schedule", "--db", sqlite_url, "--cron", "not a cron", "--once")
    assert proc.returncode == 2
    assert "invalid schedule" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_schedule_help():
    proc = newsmon("schedule", "--help")
    assert proc.returncode == 0 and "--every" in proc.stdout


def test_a_run_missed_while_the_daemon_was_down_happens_once_at_restart(sqlite_url):
    from datetime import UTC, datetime, timedelta

    from newsmon.scheduler import ScheduleOptions, catch_up_due

    trigger = ScheduleOptions(db_url=sqlite_url, every=600).trigger()
    now = datetime.now(UTC)
    with Archive.open(sqlite_url) as archive:
        assert not catch_up_due(archive, trigger, now)  # never ran: the schedule decides
        recent = archive.start_run("rp", trigger="scheduled", started_at=now - timedelta(
            minutes=5))
        archive.finish_run(recent, "completed")
        assert not catch_up_due(archive, trigger, now)  # next fire still ahead
        late = archive.start_run("rp", trigger="scheduled", started_at=now - timedelta(hours=3))
        archive.finish_run(late, "completed")
        # The newest scheduled run decides, not the older one.
        assert not catch_up_due(archive, trigger, now)
    with Archive.open(f"{sqlite_url}.2") as archive:
        old = archive.start_run("rp", trigger="scheduled", started_at=now - timedelta(hours=3))
        archive.finish_run(old, "completed")
        assert catch_up_due(archive, trigger, now)  # a fire time passed while down



def _log_times(err: str, message: str) -> list[datetime]:
    """When the daemon logged lines containing `message` (its own timestamps)."""
    stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) newsmon\.schedule: (.*)$")
    return [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            for m in map(stamp.match, err.splitlines()) if m and message in m.group(2)]


def test_every_3_with_the_shipped_jitter_waits_at_most_the_interval_plus_the_cap(
        replica, sqlite_url):
    """Issue 10.3, with the shipped config/newsmon.toml (jitter = 60): `newsmon schedule
    --every 3 -s DOWNLOAD_DELAY=0` used to start nothing for up to a minute. Now the jitter is
    capped at a tenth of the interval, so the daemon never waits more than 3 + 0.3 s before a
    run: the first one, and each one after a crawl ends. Asserted on the daemon's own log
    times, not on wall time since launch, which mostly measures how fast this machine runs a
    crawl process (the issue's 14 s for three runs: `python -m bench.schedule_bench`)."""
    import tomllib

    shipped = tomllib.loads((REPO / "config" / "newsmon.toml").read_text())["schedule"]
    assert shipped["jitter"] > 3  # the case: a jitter larger than the interval
    daemon = subprocess.Popen(
        [sys.executable, "-m", "newsmon", "schedule", "--base-url", replica.base_url,
         "--db", sqlite_url, "--every", "3", "-s", "DOWNLOAD_DELAY=0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        completed = wait_until(
            lambda: len([r for r in all_runs(sqlite_url) if r["status"] == "completed"]) >= 3,
            timeout=90)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert completed, (err, all_runs(sqlite_url))
    assert "every 3s (Europe/Warsaw), jitter 0.3s (configured 60s" in err
    # Each run's crawl process was started ahead of it (the first one with the daemon), so no
    # run waits for Python to load Scrapy after its fire time; none is left behind at exit.
    assert "crawl processes pre-started" in err
    started_lines = [line for line in err.splitlines() if "crawl started (pid" in line]
    assert started_lines and all("pre-started" in line for line in started_lines), err
    assert crawl_processes(sqlite_url) == []
    [ready] = _log_times(err, "scheduler started")
    starts = _log_times(err, "crawl started")
    # The third crawl may still be exiting when SIGTERM comes: its exit code is then -2.
    ends = _log_times(err, " completed (exit")
    assert len(starts) >= 3 and len(ends) >= 2, err
    # Waiting for the next fire time plus the jitter; 0.7 s of slack for a busy machine.
    longest_wait = 3 + 0.3 + 0.7
    waits = [starts[0] - ready] + [start - end for end, start in zip(ends, starts[1:3],
                                                                      strict=False)]
    assert all(w.total_seconds() <= longest_wait for w in waits), (waits, err)
