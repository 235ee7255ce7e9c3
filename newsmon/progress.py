"""Where long work stands, on stderr (stdout keeps the summary and --json for scripts).

On a terminal: a live rich.progress display. Otherwise (cron, systemd, the daemon's log, CI):
one log line every `interval` seconds ([crawl].progress_interval, NEWSMON_PROGRESS_INTERVAL
for a crawl; default 60) with the same counts and no control sequences, so a long run in a
log shows it is alive. `-q` turns both off.

Reporter is one task's display, used by every long command; CrawlProgress is the Scrapy
extension that feeds it from the crawl's stats, the scheduler's queue and AutoThrottle's
current delay."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque

MODES = ("auto", "live", "log", "off")
DEFAULT_INTERVAL = 60.0
LIVE_PERIOD = 0.5  # seconds between updates of the live display

log = logging.getLogger("newsmon.progress")


def resolve_mode(mode: str | None, stream=None) -> str:
    """'live' on a terminal, 'log' elsewhere, unless `mode` forces one ('off': nothing)."""
    mode = (mode or "auto").lower()
    if mode not in MODES:
        raise ValueError(f"progress mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "auto":
        return mode
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    return "live" if tty and os.environ.get("TERM") != "dumb" else "log"


def configured_interval() -> float:
    """Seconds between progress log lines: [crawl].progress_interval, else 60."""
    from crawler.config import section

    return float(section("crawl").get("progress_interval", DEFAULT_INTERVAL))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60}:{rest % 60:02d}"


class Reporter:
    """One task's progress: `update(done, total, detail, eta)` as the work goes on."""

    def __init__(self, title: str, *, mode: str = "auto", interval: float | None = None,
                 unit: str = ""):
        self.title = title
        self.unit = unit
        self.mode = resolve_mode(mode)
        self.interval = configured_interval() if interval is None else float(interval)
        self._progress = None
        self._task = None
        self._started = self._last_line = time.monotonic()
        self._drawn = 0.0
        self.done, self.total, self.detail, self.eta = 0, None, "", None

    def __enter__(self) -> Reporter:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._started = self._last_line = time.monotonic()
        if self.mode == "live":
            self._progress = _live.acquire()
            self._task = self._progress.add_task(self.title, total=None, detail="", eta="?")

    def update(self, done: int, total: int | None = None, detail: str = "",
               eta: float | None = None, *, emit: bool = True) -> None:
        """New figures; in log mode a line when `interval` has passed (`emit`)."""
        self.done, self.total, self.detail, self.eta = done, total, detail, eta
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total, detail=detail,
                                  eta=duration(eta))
            now = time.monotonic()
            if now - self._drawn >= LIVE_PERIOD / 2:
                self._drawn = now
                self._progress.refresh()
        elif emit and self.mode == "log" and time.monotonic() - self._last_line >= self.interval:
            self.line()

    def redraw(self) -> None:
        """Draw the live display now (update() redraws at most every LIVE_PERIOD / 2)."""
        if self._progress is not None:
            self._drawn = time.monotonic()
            self._progress.refresh()

    def line(self) -> None:
        """One progress log line now."""
        self._last_line = time.monotonic()
        if self.mode != "log":
            return
        _ensure_handler()
        of = f"/{self.total}" if self.total is not None else ""
        unit = f" {self.unit}" if self.unit else ""
        detail = f"; {self.detail}" if self.detail else ""
        log.info("%s: %s%s%s after %s, ETA %s%s", self.title, self.done, of, unit,
                 duration(self._last_line - self._started), duration(self.eta), detail)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.refresh()
            self._progress = None
            _live.release()


class Steps:
    """Work in named steps of a known number (the benchmark's sections): on a terminal the live
    display names the step running and counts the steps done; elsewhere nothing is drawn and
    `fallback(name)` is called as each step starts (bench prints its `[bench] NAME ...`)."""

    def __init__(self, title: str, names: list[str], *, fallback=None, mode: str = "auto"):
        # No log lines of its own: a step's start is the fallback's to tell.
        self.reporter = Reporter(title, mode=mode, interval=float("inf"))
        self.total = len(names)
        self.fallback = fallback
        self.done = 0
        self.current: str | None = None

    def __enter__(self) -> Steps:
        self.reporter.start()
        self.reporter.update(0, self.total, "starting", emit=False)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None and self.current is not None:
            self.done += 1
            self.reporter.update(self.done, self.total, "done", emit=False)
        self.reporter.stop()

    def step(self, name: str) -> None:
        """`name` starts now (the step before it, if any, is done)."""
        if self.current is not None:
            self.done += 1
        self.current = name
        if self.reporter.mode == "live":
            # A step's display stays until the next: drawn now, not at the next update.
            self.reporter.update(self.done, self.total, f"{name} ...", emit=False)
            self.reporter.redraw()
        elif self.fallback is not None:
            self.fallback(name)


def counted(items, reporter: Reporter, *, every: int = 50, detail=None):
    """Yield `items`, telling `reporter` how many went by (and the rate) every `every` items
    and at the end; `detail(count)`: more text beside the count."""
    def text(count: int) -> str:
        seconds = time.monotonic() - reporter._started
        rate = f"{count / seconds:.0f}/s" if seconds > 0 else ""
        return ", ".join(filter(None, (detail(count) if detail else "", rate)))

    count = 0
    for count, item in enumerate(items, 1):  # noqa: B007 - the last count is reported below
        yield item
        if count % every == 0:
            reporter.update(count, detail=text(count))
    reporter.update(count, detail=text(count), emit=False)


class _SharedLive:
    """The one live display of the process (rich allows one at a time): several crawls in
    one process (`newsmon crawl --site a --site b`) are a task each on it."""

    def __init__(self):
        self.progress = None
        self.users = 0
        self._streams: list[tuple[logging.StreamHandler, object]] = []

    def acquire(self):
        if self.progress is None:
            import rich.progress as rp
            from rich.console import Console
            from rich.table import Column

            def fixed(text: str):  # kept whole; the counts give way on a narrow terminal
                return rp.TextColumn(text, table_column=Column(no_wrap=True))

            self.progress = rp.Progress(
                rp.SpinnerColumn(), fixed("[bold]{task.description}"),
                rp.BarColumn(bar_width=16),
                rp.MofNCompleteColumn(table_column=Column(no_wrap=True)),
                rp.TimeElapsedColumn(), fixed("ETA {task.fields[eta]}"),
                rp.TextColumn("{task.fields[detail]}",
                              table_column=Column(ratio=1, overflow="fold")),
                # Redrawn by update(), no refresh thread: `reparse` forks its workers only
                # where no other thread runs.
                console=Console(file=sys.stderr), auto_refresh=False)
            self.progress.start()
            # Log lines go through rich's stderr proxy, above the display, not across it.
            for handler in (*logging.getLogger().handlers, *log.handlers):
                if isinstance(handler, logging.StreamHandler) and \
                        handler.stream is sys.__stderr__ and sys.stderr is not sys.__stderr__:
                    self._streams.append((handler, handler.setStream(sys.stderr)))
        self.users += 1
        return self.progress

    def release(self) -> None:
        self.users -= 1
        if self.users > 0 or self.progress is None:
            return
        self.progress.refresh()
        self.progress.stop()
        self.progress = None
        for handler, stream in self._streams:
            handler.setStream(stream)
        self._streams.clear()


_live = _SharedLive()


def _ensure_handler() -> None:
    # Progress lines show at the default verbosity (WARNING): their own handler, same format
    # as Scrapy's lines, on the stderr of the moment.
    if log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s",
                                           "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


class Rate:
    """Items per second over the last `window` seconds of updates."""

    def __init__(self, window: float = 15.0):
        self.window = window
        self._points: deque[tuple[float, int]] = deque()

    def add(self, done: int, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        self._points.append((now, done))
        while len(self._points) > 2 and now - self._points[0][0] > self.window:
            self._points.popleft()
        (t0, d0), (t1, d1) = self._points[0], self._points[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 and d1 > d0 else None


class CrawlProgress:
    """Scrapy extension: the crawl's progress (NEWSMON_PROGRESS: auto, live, log or off;
    NEWSMON_PROGRESS_INTERVAL: seconds between log lines)."""

    def __init__(self, crawler, mode: str, interval: float):
        self.crawler = crawler
        self.reporter = Reporter("crawl", mode=mode, interval=interval, unit="articles")
        self.rate = Rate()
        self.sources_fetched = 0
        self.article_responses = 0
        self._loop = None

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        from crawler.config import ConfigError

        try:
            mode = resolve_mode(crawler.settings.get("NEWSMON_PROGRESS", "auto"))
        except ValueError as exc:
            raise ConfigError(f"bad setting NEWSMON_PROGRESS: {exc}") from None
        if mode == "off":
            raise NotConfigured
        ext = cls(crawler, mode, crawler.settings.getfloat("NEWSMON_PROGRESS_INTERVAL",
                                                           DEFAULT_INTERVAL))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider) -> None:
        from twisted.internet import task

        rules = getattr(spider, "rules", None)
        self.reporter.title = f"crawl {getattr(rules, 'name', spider.name)}"
        self.reporter.start()
        period = LIVE_PERIOD if self.reporter.mode == "live" else self.reporter.interval
        self._loop = task.LoopingCall(self.tick, period=period)
        self._loop.start(period, now=False)

    def response_received(self, response, request, spider) -> None:
        if "article_id" in request.meta:
            self.article_responses += 1
        elif "source" in request.meta and response.status < 400:
            self.sources_fetched += 1

    def tick(self, period: float | None = None) -> None:
        # Called every `period` by the loop (log mode: one line each), and once at the end.
        done, total, detail, eta = self.snapshot()
        self.reporter.update(done, total, detail, eta, emit=False)
        if period is not None:
            self.reporter.line()

    def snapshot(self) -> tuple[int, int, str, float | None]:
        """(articles done, articles queued, the counts as text, ETA in seconds)."""
        from crawler.run_status import STAT_ATTEMPTED, STAT_OUTCOME, STAT_SOURCE_FAILURES

        stats = self.crawler.stats.get_stats()
        outcome = {key[len(STAT_OUTCOME):]: int(value) for key, value in stats.items()
                   if key.startswith(STAT_OUTCOME)}
        source_failures = int(stats.get(STAT_SOURCE_FAILURES) or 0)
        robots = int(stats.get("robotstxt/forbidden") or 0)  # queued, never fetched
        done = max(0, sum(outcome.values()) - source_failures + robots)
        queued = int(stats.get(STAT_ATTEMPTED) or 0)
        errors = outcome.get("error", 0) - source_failures + outcome.get("parse_failure", 0)
        rate = self.rate.add(done)
        delay = self._delay()
        detail = (f"sources {self.sources_fetched} done, {source_failures} failed | "
                  f"fetched {self.article_responses}, "
                  f"not modified {outcome.get('not_modified', 0)}, "
                  f"new {outcome.get('new_article', 0)}, "
                  f"changed {outcome.get('new_version', 0)}, "
                  f"suspect {outcome.get('suspect', 0)}, errors {max(errors, 0)}"
                  f"{f', robots.txt skipped {robots}' if robots else ''} | "
                  f"{rate or 0:.1f}/s, delay {delay:.2f}s")
        per_request = max(delay, 1 / rate if rate else 0.0)
        pending = self._pending()
        eta = pending * per_request if per_request and pending is not None else None
        return done, max(queued, done), detail, eta

    def _delay(self) -> float:
        # AutoThrottle moves each downloader slot's delay; the slowest host sets the pace.
        downloader = getattr(self.crawler.engine, "downloader", None)
        slots = getattr(downloader, "slots", {}) or {}
        return max((slot.delay / max(slot.concurrency, 1) for slot in slots.values()),
                   default=0.0)

    def _pending(self) -> int | None:
        engine = self.crawler.engine
        scheduler = getattr(engine, "scheduler", None)
        try:
            queued = len(scheduler) if scheduler is not None else 0
        except TypeError:
            return None
        return queued + len(getattr(engine.downloader, "active", ()))

    def spider_closed(self, spider) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.tick()
        self.reporter.stop()
