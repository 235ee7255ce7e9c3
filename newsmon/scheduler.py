"""The scheduling daemon: APScheduler 3 runs one crawl subprocess per cycle.

A subprocess per run keeps the daemon alive whatever a crawl does (Twisted's reactor cannot
restart in one process anyway). One crawl at a time is guaranteed twice: the scheduler runs
its jobs on a single worker thread, and the archive's crawl lease that every entry point
takes, so a manual crawl started meanwhile is refused and recorded as skipped. With runs
minutes apart or closer, each run's process is started ahead of it (`newsmon crawl
--wait-for-start`, see PRESTART_MAX_GAP) and only told to go at the run's time.

Several sites (run_sites_daemon): one job per site on its own trigger (the profile's
[schedule] cron/every, else the configuration's), crawls of different sites at once up to
a bound (`[schedule].max_concurrent`), never two of one site (a run lock per host here, so
profiles served by one host also take turns, and the per-site lease everywhere)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.run_status import stopped_run, summary_line
from crawler.sites import default_site, fetch_host

logger = logging.getLogger("newsmon.schedule")

_PR_SET_PDEATHSIG = 1


@dataclass
class ScheduleOptions:
    db_url: str
    # The site profile crawled (its runs are the ones this daemon closes and catches up on).
    site: str = field(default_factory=default_site)
    cron: str | None = None
    every: float | None = None
    timezone: str = "Europe/Warsaw"
    jitter: float | None = None
    misfire_grace_time: int = 600
    run_timeout: float = 3600.0
    stop_grace: float = 30.0
    base_url: str | None = None
    recheck: str = "due"
    max_articles: int | None = None
    settings: list[tuple[str, str]] = field(default_factory=list)  # -s NAME=VALUE pairs

    def trigger(self):
        """The un-jittered trigger: the supervisor adds the jitter (see effective_jitter)."""
        tz = ZoneInfo(self.timezone)
        if self.every:
            return IntervalTrigger(seconds=self.every, timezone=tz)
        if not self.cron:
            raise ValueError("a schedule needs a cron expression or an interval")
        return CronTrigger.from_crontab(self.cron, timezone=tz)


# The jitter applied is at most this share of the shortest gap between two fire times. Jitter
# only has to keep runs off the exact round times every other cron uses; a few percent of the
# period does that. Capped at a tenth, two runs always start at least 90% of the gap apart,
# in their scheduled order, and none starts later than a tenth of its period; the shipped
# 60 s on a 30-minute cron (3%) is untouched, while 60 s on a 3 s interval becomes 0.3 s.
JITTER_SHARE = 0.1
# How far ahead a cron schedule is scanned for its shortest gap: a year covers every weekday
# and month-length combination (and both DST changes). A cron's times of day are the same on
# every day it fires, so a dense cron shows its shortest gap within a day: 2,000 fire times
# (six weeks of "*/30") bound the scan to a fraction of a second. It also stops at 60 s, the
# finest a crontab can fire.
CRON_SCAN_DAYS = 366
CRON_SCAN_MAX_FIRES = 2_000
CRON_RESOLUTION = 60.0


def shortest_gap(trigger, start: datetime) -> float | None:
    """Seconds between the two closest consecutive fire times of `trigger` after `start`:
    the interval of an IntervalTrigger; for a cron trigger the minimum over its next
    CRON_SCAN_DAYS or CRON_SCAN_MAX_FIRES fire times, in the trigger's time zone (a cron like
    "0 9,12 * * *" has gaps of 3 h and 21 h). Measured in elapsed time, so a DST change
    counts as it happens ("30 2 * * *" in Europe/Warsaw fires twice, an hour apart, on the
    night clocks go back). None when fewer than two fire times fall in the window (a yearly
    cron)."""
    if isinstance(trigger, IntervalTrigger):
        return trigger.interval_length
    horizon = start + timedelta(days=CRON_SCAN_DAYS)
    shortest: float | None = None
    previous = trigger.get_next_fire_time(None, start)
    for _ in range(CRON_SCAN_MAX_FIRES):
        if previous is None:
            break
        fire = trigger.get_next_fire_time(previous, previous)
        if fire is None or fire > horizon:
            break
        # Timestamps, not datetime subtraction: aware datetimes sharing a ZoneInfo subtract
        # as wall-clock times, which is an hour off across a DST change.
        gap = fire.timestamp() - previous.timestamp()
        shortest = gap if shortest is None else min(shortest, gap)
        if shortest <= CRON_RESOLUTION:
            break
        previous = fire
    return shortest


def effective_jitter(configured: float | None, trigger, start: datetime) -> float:
    """The random delay actually allowed per run: the configured jitter, capped at
    JITTER_SHARE of the trigger's shortest gap (a jitter larger than the interval is never
    what a user means: `--every 3` with 60 s of jitter would run nothing for a minute)."""
    if not configured or configured <= 0:
        return 0.0
    return _capped_jitter(configured, shortest_gap(trigger, start))


def _capped_jitter(configured: float | None, gap: float | None) -> float:
    if not configured or configured <= 0:
        return 0.0
    if gap is None:
        return float(configured)
    return min(float(configured), JITTER_SHARE * gap)


# A crawl process spends 2-4 s (on a 2-core machine) importing Scrapy, SQLAlchemy and the
# parser before its first request. With runs this close or closer, that is a large share of
# the gap, so the supervisor starts the next crawl process as soon as it hands a run to the
# current one, and the next run only has to tell it to go. With runs further apart the
# start-up is noise, and no idle process (~90 MB) waits for them.
PRESTART_MAX_GAP = 600.0


def _die_with_parent() -> None:
    # If the daemon is killed (even with SIGKILL) its crawl must not run on unsupervised:
    # the kernel sends the child SIGKILL, and the next start recovers the lease and run.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class CrawlSupervisor:
    """Starts one crawl subprocess at a time, enforces the timeout, stops it on shutdown."""

    def __init__(self, options: ScheduleOptions, prestart: bool = False):
        self.options = options
        # Keep the next crawl process started and waiting for its run (PRESTART_MAX_GAP).
        self.prestart = prestart
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._spare: tuple[subprocess.Popen, float] | None = None  # process, time.monotonic()
        self.stopping = threading.Event()
        # Held for a whole cycle when several sites share the daemon's workers: a run of this
        # site that comes due while one is running waits for it.
        self.run_lock = threading.Lock()

    def command(self) -> list[str]:
        opts = self.options
        # --wait-for-start: the process loads everything, then waits for the go on stdin.
        cmd = [sys.executable, "-m", "newsmon", "crawl", "--trigger", "scheduled",
               "--wait-for-start",
               "--db", opts.db_url, "--site", opts.site, "--recheck", opts.recheck]
        if opts.base_url:
            cmd += ["--base-url", opts.base_url]
        if opts.max_articles:
            cmd += ["--max-articles", str(opts.max_articles)]
        for name, value in opts.settings:
            cmd += ["-s", f"{name}={value}"]
        return cmd

    def run_once(self, jitter: float = 0.0) -> int:
        """One scheduled cycle: wait a random delay of up to `jitter` seconds, run the crawl,
        wait for it within the timeout, log one line."""
        # The delay is taken here rather than by the trigger: APScheduler computes an interval's
        # next fire time from the jittered previous one, so its jitter accumulates into drift.
        if jitter > 0 and self.stopping.wait(random.uniform(0, jitter)):
            return 0
        started = datetime.now(UTC)
        with self._lock:
            # Checked under the lock that stop_current takes: a stop either prevents this
            # crawl or finds it running.
            if self.stopping.is_set():
                return 0
            process, how = self._start_process()
            self._process = process
            if self.prestart:
                self.start_spare()
        logger.info("crawl started (pid %s, %s)", process.pid, how)
        timed_out = False
        try:
            process.wait(timeout=self.options.run_timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            logger.warning("crawl pid %s exceeded %.0fs: stopping it", process.pid,
                           self.options.run_timeout)
            self.stop_process(process)
        finally:
            with self._lock:
                self._process = None
        return self._report(process, started, timed_out)

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(self.command(), preexec_fn=_die_with_parent,
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                start_new_session=True)

    def start_spare(self) -> None:
        """Start the crawl process of the next run now; it loads and waits (call under the
        lock, or before the scheduler runs)."""
        self._spare = (self._spawn(), time.monotonic())

    def _start_process(self) -> tuple[subprocess.Popen, str]:
        """The process of this run, told to go: the pre-started one, or a new one."""
        spare, self._spare = self._spare, None
        if spare is not None and spare[0].poll() is None:
            process, how = spare[0], f"pre-started {time.monotonic() - spare[1]:.1f}s before"
        else:
            if spare is not None:
                logger.warning("the pre-started crawl process %s exited (%s): starting another",
                               spare[0].pid, spare[0].returncode)
            process, how = self._spawn(), "started now"
        try:
            process.stdin.write(b"go\n")
            process.stdin.close()
        except OSError:
            pass  # it has just died: recorded below like any crawl that ended before its run
        return process, how

    def discard_spare(self) -> None:
        """End the waiting process, if any. Killed rather than sent end of input, which it
        would only read once loaded: before its go it has opened no run and holds nothing."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return
        process = spare[0]
        with contextlib.suppress(OSError):
            process.stdin.close()
        process.kill()
        process.wait()

    def stop_process(self, process: subprocess.Popen) -> None:
        """SIGINT first (Scrapy closes the spider and records the run), then kill."""
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=self.options.stop_grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_current(self) -> None:
        with self._lock:
            process = self._process
        if process is not None:
            self.stop_process(process)

    def _close_run(self, archive, process: subprocess.Popen, started: datetime,
                   timed_out: bool) -> dict:
        """The run record of this crawl process, closed with the status the supervisor saw."""
        archive.mark_interrupted_runs(status="failed")
        run = archive.run_for_process(process.pid, started_after=started - timedelta(seconds=5))
        if run is not None and not timed_out:
            return run  # closed by the crawl itself
        status, note = stopped_run(timed_out=timed_out, run_timeout=self.options.run_timeout,
                                   returncode=process.returncode, opened=run is not None)
        if run is None:
            # The crawl ended before it could open a run: stopped while starting up, or a
            # bad config or unreachable archive. Record it all the same: every run is recorded.
            run = {"id": archive.start_run(site=self.options.site,
                                           base_url=self.options.base_url or "",
                                           trigger="scheduled", options={"pid": process.pid})}
        archive.finish_run(run["id"], status, note=note)
        return archive.get_run(run["id"])

    def _report(self, process: subprocess.Popen, started: datetime, timed_out: bool) -> int:
        from storage import Archive

        # Opened per report and closed: the daemon lives for weeks.
        with Archive.open(self.options.db_url) as archive:
            run = self._close_run(archive, process, started, timed_out)
        logger.info("run %s %s (exit %s, %.1fs): %s", run["id"], run["status"],
                    process.returncode, (datetime.now(UTC) - started).total_seconds(),
                    summary_line(run))
        return process.returncode if process.returncode is not None else 1


def catch_up_due(archive, trigger, now: datetime, site: str | None = None) -> bool:
    """True when a scheduled fire time passed while the daemon was down (since the last
    scheduled run, of `site` when given), so that the restart runs it once rather than never."""
    last = archive.last_run_started(trigger="scheduled", site=site)
    if last is None:
        return False
    next_fire = trigger.get_next_fire_time(last, last)
    return next_fire is not None and next_fire <= now


def run_daemon(options: ScheduleOptions) -> int:
    from newsmon.cluster.planner import planner_daemon

    # With Scrapyd nodes in [cluster], this daemon plans crawls on them instead of crawling.
    if (code := planner_daemon(options)) is not None:
        return code
    trigger = options.trigger()
    now = datetime.now(ZoneInfo(options.timezone))
    gap = shortest_gap(trigger, now)
    supervisor = CrawlSupervisor(options, prestart=gap is not None and gap <= PRESTART_MAX_GAP)
    if supervisor.prestart:
        supervisor.start_spare()  # it loads while the daemon sets up and waits for the first run
    try:
        return _serve(options, supervisor, trigger, now, _capped_jitter(options.jitter, gap))
    finally:
        supervisor.discard_spare()


def _serve(options: ScheduleOptions, supervisor: CrawlSupervisor, trigger, now: datetime,
           jitter: float) -> int:
    from storage import Archive

    # One worker runs the crawls one after the other. Two instances of the job may exist, the
    # running crawl and one waiting for it: a run that comes due while a crawl overruns its
    # slot starts when that crawl ends (once, however many fire times passed, and only within
    # misfire_grace_time) instead of being dropped until the next fire time.
    scheduler = BlockingScheduler(timezone=ZoneInfo(options.timezone),
                                  executors={"default": ThreadPoolExecutor(max_workers=1)})
    with Archive.open(options.db_url) as archive:
        archive.mark_interrupted_runs(status="failed")
        first_run: Any = now if catch_up_due(archive, trigger, now, options.site) else None
    scheduler.add_job(
        supervisor.run_once, trigger, kwargs={"jitter": jitter}, id="crawl", name="crawl",
        max_instances=2, coalesce=True, misfire_grace_time=options.misfire_grace_time,
        **({"next_run_time": first_run} if first_run else {}),
    )
    add_digest_jobs(scheduler, options.db_url)
    scheduler.add_listener(lambda event: logger.warning("a scheduled run was missed"),
                           EVENT_JOB_MISSED)
    logging.getLogger("apscheduler.scheduler").addFilter(_drop_covered_fire_times)

    def shutdown(signum, _frame):
        if supervisor.stopping.is_set():
            return
        logger.info("signal %s: stopping the scheduler", signal.Signals(signum).name)
        supervisor.stopping.set()
        # Stopping the running crawl blocks up to the grace period: not in a signal handler.
        threading.Thread(target=_stop_all, args=(scheduler, supervisor), daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    logger.info("scheduler started: %s", _describe(options, jitter, supervisor.prestart))
    scheduler.start()  # returns after shutdown
    logger.info("scheduler stopped")
    return 0


def run_sites_daemon(sites: list[ScheduleOptions], max_concurrent: int = 2) -> int:
    """The daemon for several sites (one: run_daemon): each on its own trigger, at most
    `max_concurrent` crawls at once, one at a time per site."""
    from newsmon.cluster.planner import planner_daemon
    from storage import Archive

    if len(sites) == 1:
        return run_daemon(sites[0])
    if (code := planner_daemon(sites[0])) is not None:
        return code
    first = sites[0]
    now = datetime.now(ZoneInfo(first.timezone))
    slots = threading.BoundedSemaphore(max(1, max_concurrent))
    # Each site's job may have one instance running and one waiting behind it.
    scheduler = BlockingScheduler(timezone=ZoneInfo(first.timezone), executors={
        "default": ThreadPoolExecutor(max_workers=2 * len(sites))})
    supervisors = []
    host_locks: dict[str, threading.Lock] = {}
    with Archive.open(first.db_url) as archive:
        archive.mark_interrupted_runs(status="failed")
        for options in sites:
            trigger = options.trigger()
            gap = shortest_gap(trigger, now)
            supervisor = CrawlSupervisor(options)
            supervisor.run_lock = host_locks.setdefault(
                fetch_host(options.site, options.base_url), threading.Lock())
            supervisors.append(supervisor)
            catch_up = catch_up_due(archive, trigger, now, options.site)
            scheduler.add_job(
                _bounded_run, trigger, args=[supervisor, slots],
                kwargs={"jitter": _capped_jitter(options.jitter, gap)},
                id=f"crawl:{options.site}", name=f"crawl {options.site}", max_instances=2,
                coalesce=True, misfire_grace_time=options.misfire_grace_time,
                **({"next_run_time": now} if catch_up else {}))
    add_digest_jobs(scheduler, first.db_url)
    scheduler.add_listener(lambda event: logger.warning("a scheduled run was missed"),
                           EVENT_JOB_MISSED)
    logging.getLogger("apscheduler.scheduler").addFilter(_drop_covered_fire_times)

    def shutdown(signum, _frame):
        if all(s.stopping.is_set() for s in supervisors):
            return
        logger.info("signal %s: stopping the scheduler", signal.Signals(signum).name)
        for supervisor in supervisors:
            supervisor.stopping.set()

        def stop():
            for supervisor in supervisors:
                supervisor.stop_current()
            scheduler.shutdown(wait=True)

        threading.Thread(target=stop, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    for options in sites:
        logger.info("scheduler started: %s", _describe(options, options.jitter or 0, False))
    logger.info("at most %d crawls at once", max(1, max_concurrent))
    scheduler.start()
    logger.info("scheduler stopped")
    return 0


def _bounded_run(supervisor: CrawlSupervisor, slots: threading.BoundedSemaphore,
                 jitter: float = 0.0) -> int:
    with supervisor.run_lock:  # never two crawls of one site (or of one host)
        with slots:  # a bounded number of crawls at once
            return supervisor.run_once(jitter)


def send_digest(db_url: str, subscription) -> None:
    """The digest job of one `mode = "digest"` subscription: its pending events go out as one
    message when their time has come (newsmon/notify/sender.py: the first cron time after
    the oldest of them). Anything else due is left to the crawls and `notify send`."""
    from newsmon.notify.sender import send_pending
    from storage import Archive

    try:
        with Archive.open(db_url) as archive:
            report = send_pending(archive.engine, [subscription])
    except Exception:  # the daemon goes on; the events stay pending for the next sender
        logger.exception("digest %s could not be sent", subscription.name)
        return
    if report.digests or report.errors:
        logger.info("digest %s: %s", subscription.name, report.line())


def add_digest_jobs(scheduler, db_url: str) -> list[str]:
    """One job per digest subscription on the cron of its own, run by a worker of their own
    (a digest never waits behind an hour-long crawl) and once at start-up, so a digest the
    daemon slept through goes out now. Returns the subscriptions' names."""
    from newsmon.notify.subscriptions import load_subscriptions

    subscriptions, errors = load_subscriptions()
    for error in errors:
        logger.error("notify config error: %s", error)
    digests = [sub for sub in subscriptions if sub.mode == "digest"]
    if digests:
        scheduler.add_executor(ThreadPoolExecutor(max_workers=1), "notify")
    for sub in digests:
        scheduler.add_job(send_digest, sub.cron_trigger(), args=[db_url, sub],
                          id=f"digest:{sub.name}", name=f"digest {sub.name}",
                          executor="notify", coalesce=True, misfire_grace_time=None,
                          next_run_time=datetime.now(UTC))
    return [sub.name for sub in digests]


def _drop_covered_fire_times(record: logging.LogRecord) -> bool:
    # APScheduler warns that a run was "skipped" when a fire time passes while one crawl runs
    # and the next already waits: that waiting run covers it (coalescing), nothing is lost.
    return "maximum number of running instances reached" not in record.getMessage()


def _stop_all(scheduler: BlockingScheduler, supervisor: CrawlSupervisor) -> None:
    supervisor.stop_current()
    supervisor.discard_spare()
    # wait=True: the job thread finishes recording the run before the daemon exits.
    scheduler.shutdown(wait=True)


def _describe(options: ScheduleOptions, jitter: float, prestart: bool) -> str:
    when = f"every {options.every:g}s" if options.every else f"cron '{options.cron}'"
    configured = options.jitter or 0
    spread = f"jitter {jitter:g}s"
    if jitter < configured:
        spread += f" (configured {configured:g}s, capped at {JITTER_SHARE:.0%} of the gap)"
    return (f"{when} ({options.timezone}), {spread}, site {options.site}, "
            f"archive {options.db_url}, "
            f"timeout {options.run_timeout:g}s, "
            f"{'crawl processes pre-started, ' if prestart else ''}pid {os.getpid()}")
