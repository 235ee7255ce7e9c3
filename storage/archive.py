"""The archive's repository API: everything the crawler stores goes through `Archive`.

`Archive` is a facade: it owns the engine, the session factories and the write retry loop,
and each method runs one function of a module that has one concern, in one short
transaction:

    runs.py       crawl runs, their counters, runs whose process is gone
    lease.py      the crawl lease (processes.py: is a pid on this host still running?)
    articles.py   known articles, which are due for a re-check
    fetches.py    one fetch event per fetch and what came of it
    versions.py   the one path that creates a version (versioning.py decides, changes.py
                  summarises the change)
    rawpages.py   raw pages stored once by sha256 (compression.py is the codec)
    check.py      the consistency check
    query/runs.py reading runs and fetch events back (with the rest of storage.query)

Writers are safe to run from several processes at once: on SQLite every write transaction is
`BEGIN IMMEDIATE` (see db.py), so writers queue instead of failing with "database is
locked"; on PostgreSQL the article row is locked with `SELECT ... FOR UPDATE` before its
version is decided, inserts of shared rows (sites, articles, raw pages, URLs) are
`ON CONFLICT DO NOTHING`, and `(article, version)` is unique, so two processes recording the
same page produce one version. A transaction that still loses a race (unique violation,
serialization failure, deadlock) is retried from the start.

Records come in as plain dicts (the parser's `ArticleRecord.to_dict()`; the fields the archive
keeps are storage/record.py's).
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from storage import articles, cluster, fetches, lease, migrate, rawpages, runs
from storage.check import check as consistency_check
from storage.compression import PageCodec
from storage.db import make_engine, make_sessionmakers
from storage.query import runs as run_queries

P = ParamSpec("P")
T = TypeVar("T")

WRITE_ATTEMPTS = 5
# PostgreSQL errors that mean "lost a race, try again": serialization failure, deadlock.
_RETRY_SQLSTATES = {"40001", "40P01"}


def _writes(work: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Archive, P], T]:
    """An Archive method that runs `work(session, ...)` in one write transaction."""

    @functools.wraps(work)
    def method(self: Archive, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._write(lambda s: work(s, *args, **kwargs))

    return method


def _reads(work: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Archive, P], T]:
    """An Archive method that runs `work(session, ...)` in one read-only transaction."""

    @functools.wraps(work)
    def method(self: Archive, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._reader() as s:
            return work(s, *args, **kwargs)

    return method


class Archive:
    """Open with `Archive.open(url)`; close with `close()` (or use as a context manager)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._writer, self._reader = make_sessionmakers(engine)
        # Raw-page compression state (the trained dictionary), shared by this archive's sessions.
        self.page_codec = PageCodec()
        for factory in (self._writer, self._reader):
            factory.configure(info={"page_codec": self.page_codec})
        self.host = socket.gethostname()

    # -- lifecycle -----------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Archive:
        """Open the archive at `url`, creating the schema or upgrading it to the latest
        revision first (unless `upgrade=False`)."""
        engine = make_engine(url)
        current = migrate.current_revision(engine)
        if current is not None and not migrate.known_revision(current):
            engine.dispose()
            raise migrate.MigrationError(
                f"the archive's schema is at revision {current!r}, which this version of "
                "newsmon does not know (written by a newer version?)"
            )
        if upgrade and current != migrate.head_revision():
            migrate.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs (runs.py; read back through storage.query.runs) ------------------------------

    def start_run(
        self,
        site: str,
        base_url: str | None = None,
        trigger: str = "manual",
        options: dict[str, Any] | None = None,
        *,
        pid: int | None = None,
        host: str | None = None,
        started_at: datetime | None = None,
    ) -> int:
        """Open a crawl run (status "running") by process `pid` (default: this one) on `host`
        (default: this one) and return its id."""
        return self._write(lambda s: runs.start_run(
            s, site, base_url, trigger, options, pid=pid, host=host or self.host,
            started_at=started_at))

    finish_run = _writes(runs.finish_run)
    bump_run = _writes(runs.bump_run)

    def mark_interrupted_runs(
        self, *, status: str = "interrupted", stale_after: timedelta | None = None
    ) -> list[int]:
        """Close runs left "running" by a process that is gone: on this host, when its pid no
        longer runs; on any host, when it started more than `stale_after` ago (if given).
        Returns the ids of the runs closed."""
        return self._write(lambda s: runs.mark_interrupted_runs(
            s, status=status, stale_after=stale_after, host=self.host))

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        return run_queries.get_run(self, run_id)

    def run_for_process(
        self, pid: int, *, started_after: datetime | None = None, host: str | None = None
    ) -> dict[str, Any] | None:
        """The latest run opened by process `pid` on `host` (default: this host)."""
        return run_queries.run_for_process(self, pid, host=host or self.host,
                                           started_after=started_after)

    def last_run_started(
        self, *, trigger: str | None = None, site: str | None = None
    ) -> datetime | None:
        return run_queries.last_run_started(self, trigger=trigger, site=site)

    # -- articles and fetches (articles.py, fetches.py, versions.py) -----------------------

    known_article = _reads(articles.known_article)
    known_article_ids = _reads(articles.known_article_ids)
    due_articles = _reads(articles.due_articles)

    record_fetch = _writes(fetches.record_fetch)
    record_not_modified = _writes(fetches.record_not_modified)
    record_gone = _writes(fetches.record_gone)
    record_error = _writes(fetches.record_error)
    record_parse_failure = _writes(fetches.record_parse_failure)
    accept_suspect = _writes(fetches.accept_suspect)

    # -- raw pages and consistency ---------------------------------------------------------

    get_raw = _reads(rawpages.get_raw)
    check = _reads(consistency_check)

    # -- the crawl lease (lease.py) ----------------------------------------------------------

    def acquire_lease(
        self, name: str = "crawl", holder: str | None = None, ttl: float | timedelta = 3600
    ) -> bool:
        """Take the named lease for `ttl` (seconds or a timedelta). True when we hold it now
        (also when we already did: the expiry is extended). A lease that expired, or whose
        holder ran on this host and its pid is gone, is taken over."""
        return self._write(lambda s: lease.acquire_lease(
            s, name, holder or self.default_holder(), lease.as_ttl(ttl), self.host))

    def renew_lease(
        self, name: str = "crawl", holder: str | None = None, ttl: float | timedelta = 3600
    ) -> bool:
        """Extend a lease we hold (heartbeat). False when someone else holds it now."""
        return self._write(lambda s: lease.renew_lease(
            s, name, holder or self.default_holder(), lease.as_ttl(ttl)))

    def release_lease(self, name: str = "crawl", holder: str | None = None) -> bool:
        """Give the lease up. False when we did not hold it."""
        return self._write(lambda s: lease.release_lease(
            s, name, holder or self.default_holder()))

    lease_info = _reads(lease.lease_info)

    # -- crawls on Scrapyd nodes (cluster.py) ----------------------------------------------

    add_cluster_job = _writes(cluster.add_job)
    active_cluster_jobs = _reads(cluster.active_jobs)
    cluster_jobs = _reads(cluster.list_jobs)
    cluster_job_run = _reads(cluster.job_run)
    settle_cluster_job = _writes(cluster.settle_job)
    last_completed_runs = _reads(cluster.last_completed)

    def default_holder(self) -> str:
        return f"{self.host}:{os.getpid()}"

    # -- plumbing --------------------------------------------------------------------------

    def write_batch(self, works: list[Callable[[Session], T]]) -> list[T | Exception]:
        """Run several units of work (e.g. `functools.partial(fetches.record_fetch, run_id,
        ...)` without its session) one after the other in one write transaction: the same rows
        as one transaction each, with one BEGIN/COMMIT and session for all. When the batch
        fails, each is run again in a transaction of its own, so a failing one fails alone:
        the result is its exception instead of its value."""
        if len(works) > 1:
            try:
                return self._write(lambda s: _together(s, works))
            except Exception:  # noqa: BLE001 - each is retried alone below
                pass
        results: list[T | Exception] = []
        for work in works:
            try:
                results.append(self._write(work))
            except Exception as exc:  # noqa: BLE001 - handed back to its caller
                results.append(exc)
        return results

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction, retrying when a concurrent writer won a race."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writer.begin() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                if attempt == WRITE_ATTEMPTS - 1 or not _retryable(exc):
                    raise
                time.sleep(0.05 * (2**attempt))
        raise AssertionError("unreachable")


def _together(s: Session, works: list[Callable[[Session], T]]) -> list[T]:
    with runs.counted_together(s):
        return [work(s) for work in works]


def _retryable(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    if isinstance(exc, IntegrityError):
        # Only a unique-key race (a concurrent insert of the same row won; the retry sees
        # it). A foreign-key or NOT NULL violation is a bug and is raised at once.
        return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return "database is locked" in str(orig)
