"""The archive's repository API: everything the crawler stores goes through `Archive`.

Each call is one short transaction. Writers are safe to run from several processes at once:
on SQLite every write transaction is `BEGIN IMMEDIATE` (see db.py), so writers queue instead of
failing with "database is locked"; on PostgreSQL the article row is locked with
`SELECT ... FOR UPDATE` before its version is decided, inserts of shared rows (sites, articles,
raw pages, URLs) are `ON CONFLICT DO NOTHING`, and `(article, version)` is unique, so two
processes recording the same page produce one version. A transaction that still loses a race
(unique violation, serialization failure, deadlock) is retried from the start.

Records come in as plain dicts (the parser's `ArticleRecord.to_dict()`); the versioning rules
are in versioning.py.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import zstandard
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from storage import migrate, revisit, versioning
from storage.compression import PageCodec, is_dict_compression
from storage.db import make_engine, make_sessionmakers
from storage.models import (
    ARTICLE_STATUSES,
    RUN_COUNTERS,
    RUN_STATUSES,
    RUN_TRIGGERS,
    Article,
    ArticleUrl,
    ArticleVersion,
    CrawlLease,
    CrawlRun,
    FetchEvent,
    RawPage,
    Site,
)
from storage.types import utcnow

T = TypeVar("T")

ZSTD_LEVEL = 10
WRITE_ATTEMPTS = 5
# PostgreSQL errors that mean "lost a race, try again": serialization failure, deadlock.
_RETRY_SQLSTATES = {"40001", "40P01"}


class ArchiveError(RuntimeError):
    """A call the archive cannot honour (unknown run, invalid status, ...)."""


@dataclass(frozen=True)
class ArticleState:
    """What the crawler needs to know about a known article before fetching it."""

    site: str
    article_id: str
    url: str
    status: str
    current_version: int
    etag: str | None
    last_modified: str | None
    first_seen: datetime
    last_checked: datetime | None
    last_changed: datetime | None
    next_check: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class FetchOutcome:
    """What record_fetch did. `version` is the version created, or the current one when the
    page was unchanged; None for parse failures, suspect pages and articles without versions.
    `reason` explains suspect, parse_failure and "unchanged because preview" outcomes."""

    kind: str
    version: int | None
    changed_fields: list[str] = field(default_factory=list)
    reason: str | None = None
    event_id: int | None = None


class Archive:
    """Open with `Archive.open(url)`; close with `close()` (or use as a context manager)."""

    def __init__(self, engine: Engine, *, revisit_policy: dict[str, Any] | None = None):
        self.engine = engine
        # The site's [revisit] table; when given, writes keep articles.next_check current
        # (due_articles() computes due-ness itself and does not depend on it).
        self.revisit_policy = revisit_policy
        self._writer, self._reader = make_sessionmakers(engine)
        # Raw-page compression state (the trained dictionary), shared by this archive's sessions.
        self.page_codec = PageCodec(plain_level=ZSTD_LEVEL)
        for factory in (self._writer, self._reader):
            factory.configure(info={"page_codec": self.page_codec})
        self.host = socket.gethostname()

    # -- lifecycle -----------------------------------------------------------------------

    @classmethod
    def open(
        cls, url: str, *, upgrade: bool = True, revisit_policy: dict[str, Any] | None = None
    ) -> Archive:
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
        return cls(engine, revisit_policy=revisit_policy)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs ----------------------------------------------------------------------------

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
        """Open a crawl run (status "running") and return its id."""
        if trigger not in RUN_TRIGGERS:
            raise ArchiveError(f"invalid trigger {trigger!r}; expected one of {RUN_TRIGGERS}")

        def work(s: Session) -> int:
            run = CrawlRun(
                site_id=_site_id(s, site, base_url),
                trigger=trigger,
                status="running",
                started_at=started_at or utcnow(),
                pid=os.getpid() if pid is None else pid,
                host=host or self.host,
                options=options,
                errors_by_kind={},
                **{name: 0 for name in RUN_COUNTERS},
            )
            s.add(run)
            s.flush()
            return run.id

        return self._write(work)

    def finish_run(
        self,
        run_id: int,
        status: str,
        note: str | None = None,
        coverage: dict[str, Any] | None = None,
        degraded: bool = False,
        *,
        finished_at: datetime | None = None,
    ) -> None:
        if status not in RUN_STATUSES or status == "running":
            raise ArchiveError(f"invalid final status {status!r}")

        def work(s: Session) -> None:
            run = _run_for_update(s, run_id)
            run.status = status
            run.finished_at = finished_at or utcnow()
            run.degraded = bool(degraded)
            if note is not None:
                run.note = note
            if coverage is not None:
                run.coverage = coverage

        self._write(work)

    def bump_run(self, run_id: int, **deltas: Any) -> None:
        """Add to a run's counters, e.g. `bump_run(id, errors=1, retries=2,
        errors_by_kind={"timeout": 1})`."""
        self._write(lambda s: _bump(s, run_id, deltas))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent runs, newest first, as plain dicts."""
        with self._reader() as s:
            rows = s.execute(
                select(CrawlRun, Site.name)
                .outerjoin(Site, CrawlRun.site_id == Site.id)
                .order_by(CrawlRun.id.desc())
                .limit(limit)
            ).all()
            return [_run_dict(run, name) for run, name in rows]

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        with self._reader() as s:
            row = s.execute(
                select(CrawlRun, Site.name)
                .outerjoin(Site, CrawlRun.site_id == Site.id)
                .where(CrawlRun.id == run_id)
            ).first()
            return _run_dict(*row) if row else None

    def run_for_process(
        self, pid: int, *, started_after: datetime | None = None, host: str | None = None
    ) -> dict[str, Any] | None:
        """The latest run opened by process `pid` on `host` (default: this host), optionally
        only one started after `started_after` (pids are reused)."""
        query = (
            select(CrawlRun, Site.name)
            .outerjoin(Site, CrawlRun.site_id == Site.id)
            .where(CrawlRun.pid == pid, CrawlRun.host == (host or self.host))
            .order_by(CrawlRun.id.desc())
            .limit(1)
        )
        if started_after is not None:
            query = query.where(CrawlRun.started_at >= started_after)
        with self._reader() as s:
            row = s.execute(query).first()
            return _run_dict(*row) if row else None

    def last_run_started(
        self, *, trigger: str | None = None, site: str | None = None
    ) -> datetime | None:
        """When the most recent run (of this trigger / site, if given) started."""
        query = select(func.max(CrawlRun.started_at))
        if trigger is not None:
            query = query.where(CrawlRun.trigger == trigger)
        if site is not None:
            query = query.join(Site, CrawlRun.site_id == Site.id).where(Site.name == site)
        with self._reader() as s:
            value = s.scalar(query)
        # func.max() loses the column type on SQLite: re-attach UTC to the text it returns.
        return _as_utc(value)

    def mark_interrupted_runs(
        self, *, status: str = "interrupted", stale_after: timedelta | None = None
    ) -> list[int]:
        """Close runs left "running" by a process that is gone: on this host, when its pid no
        longer runs; on any host, when it started more than `stale_after` ago (if given).
        Returns the ids of the runs closed."""
        if status not in ("interrupted", "failed"):
            raise ArchiveError("status must be 'interrupted' or 'failed'")
        now = utcnow()

        def work(s: Session) -> list[int]:
            runs = s.scalars(
                select(CrawlRun)
                .where(CrawlRun.status == "running")
                .order_by(CrawlRun.id)
                .with_for_update()
            ).all()
            closed = []
            for run in runs:
                dead = run.host == self.host and process_gone(run.pid, run.started_at)
                stale = stale_after is not None and now - run.started_at > stale_after
                if dead or stale:
                    run.status = status
                    run.finished_at = now
                    why = "process gone" if dead else f"running longer than {stale_after}"
                    run.note = f"{run.note}; {why}" if run.note else why
                    closed.append(run.id)
            return closed

        return self._write(work)

    # -- articles ------------------------------------------------------------------------

    def known_article(self, site: str, article_id: str) -> ArticleState | None:
        with self._reader() as s:
            row = s.execute(
                select(Article, Site.name)
                .join(Site, Article.site_id == Site.id)
                .where(Site.name == site, Article.article_id == str(article_id))
            ).first()
            return _state(*row) if row else None

    def known_article_ids(self, site: str) -> set[str]:
        """The article ids the archive holds for `site` (one query: a crawl checks every
        discovered link against it)."""
        with self._reader() as s:
            return set(s.scalars(
                select(Article.article_id).join(Site, Article.site_id == Site.id)
                .where(Site.name == site)
            ))

    def due_articles(
        self,
        site: str,
        now: datetime | None = None,
        policy: dict[str, Any] | None = None,
        mode: str = "due",
    ) -> list[ArticleState]:
        """Known articles to re-check now, least recently checked first.

        mode "none": nothing; "all": every known article of the site, whatever its age or
        status; "due": those whose revisit interval (storage.revisit, `policy` = the site's
        `[revisit]` table) has elapsed, gone articles included but less often."""
        if mode not in ("due", "all", "none"):
            raise ArchiveError(f"invalid mode {mode!r}")
        if mode == "none":
            return []
        now = now or utcnow()
        policy = policy or {}
        query = (
            select(Article, Site.name)
            .join(Site, Article.site_id == Site.id)
            .where(Site.name == site)
            .order_by(Article.last_checked.is_not(None), Article.last_checked, Article.id)
        )
        if mode == "due":
            # Articles past the horizon are never due: leave them in the database (years of
            # archive would otherwise be loaded on every run). revisit.py decides the rest.
            horizon = timedelta(
                days=float(policy.get("horizon_days", revisit.DEFAULT_HORIZON_DAYS))
            )
            born = func.coalesce(Article.published_at, Article.first_seen)
            query = query.where(born >= now - horizon)
        with self._reader() as s:
            rows = s.execute(query).all()
        states = [_state(a, name) for a, name in rows]
        if mode == "all":
            return states
        return [st for st in states if revisit.is_due(st, now, policy)]

    def record_fetch(
        self,
        run_id: int | None,
        site: str,
        article_id: str,
        url: str,
        record: dict[str, Any],
        raw: bytes | None,
        *,
        status: int = 200,
        etag: str | None = None,
        last_modified: str | None = None,
        fetched_at: datetime | None = None,
        content_type: str | None = None,
        max_body_shrink: float = versioning.DEFAULT_MAX_BODY_SHRINK,
        suspect_reason: str | None = None,
        note: str | None = None,
    ) -> FetchOutcome:
        """Store one fetched and parsed article page; decide whether it is a new version.

        One transaction: site and article upserted (`url`, the URL the crawler chose to
        archive the article under, becomes the article's URL and enters its URL history),
        the outcome decided (versioning.classify), the raw page stored when a version is
        created or the page is suspect/unparseable, the version inserted, the article
        updated, a fetch event written and the run's counters bumped. Version 1 has
        changed_fields ["*"]. Suspect and parse-failure outcomes count as a check
        (last_checked moves, so a layout change does not make every article due on
        every run) but keep the validators of the last trusted fetch, so the next fetch is a
        full one rather than a 304 for content we did not accept. `suspect_reason` (trouble
        the crawler noticed before parsing: bad decoding, an interstitial) makes any
        parseable page suspect; `accept_suspect()` turns a suspect fetch into a version.
        `note` (e.g. why the page's canonical link was not taken as `url`) goes to the event.
        With `revisit_policy` set on the archive, articles.next_check is kept current."""
        now = fetched_at or utcnow()
        article_id = str(article_id)

        def work(s: Session) -> FetchOutcome:
            site_id = _site_id(s, site)
            article = _article_for_update(s, site_id, article_id, url, now)
            current = _current_version(s, article)
            decision = versioning.classify(
                record,
                versioning.normalise(_version_dict(current)) if current else None,
                current_hash=current.content_hash if current else None,
                current_sources=current.sources if current else None,
                max_body_shrink=max_body_shrink,
            )
            if suspect_reason and decision.kind != "parse_failure":
                decision = replace(decision, kind="suspect", reason=suspect_reason)
            kind = decision.kind
            keep_raw = kind in ("new_article", "new_version", "suspect", "parse_failure")
            raw_sha = _store_raw(s, raw, content_type) if keep_raw else None
            version_no: int | None = None

            if kind in ("new_article", "new_version"):
                version_no = article.current_version + 1
                s.add(_new_version(article, version_no, decision, record, url, raw_sha, now))
                article.current_version = version_no
                article.last_changed = now
            elif kind == "unchanged":
                version_no = article.current_version

            if kind in ("new_article", "new_version", "unchanged"):
                _touch_url(s, article, url, now)
                article.url = url
                article.status = "live"
                article.last_checked = now
                article.etag, article.last_modified = etag, last_modified
                published = versioning.parse_instant(decision.normalised["published_at"])
                if published is not None:
                    article.published_at = published
                if kind != "unchanged" and decision.normalised["section"]:
                    article.section = decision.normalised["section"]
            else:
                article.last_checked = now
            self._schedule(article, now)

            event = FetchEvent(
                run_id=run_id,
                article_id=article.id,
                url=url,
                http_status=status,
                outcome=kind,
                version=version_no,
                content_hash=decision.content_hash,
                changed_fields=decision.changed_fields or None,
                error_kind=kind if kind in ("suspect", "parse_failure") else None,
                message="; ".join(filter(None, (decision.reason, note))) or None,
                raw_page_sha=raw_sha,
                record=_jsonable(record) if kind in ("suspect", "parse_failure") else None,
                fetched_at=now,
            )
            s.add(event)
            s.flush()

            deltas = {"pages_fetched": 1}
            deltas.update(
                {
                    "new_article": {"new_articles": 1, "new_versions": 1},
                    "new_version": {"new_versions": 1},
                    "unchanged": {"unchanged": 1},
                    "suspect": {"suspect": 1},
                    "parse_failure": {"parse_failures": 1},
                }[kind]
            )
            _bump(s, run_id, deltas)
            return FetchOutcome(
                kind, version_no, decision.changed_fields, decision.reason, event.id
            )

        return self._write(work)

    def record_not_modified(
        self,
        run_id: int | None,
        site: str,
        article_id: str,
        url: str,
        fetched_at: datetime | None = None,
        *,
        status: int = 304,
    ) -> None:
        """A conditional request answered 304: the article was checked and is unchanged."""
        now = fetched_at or utcnow()

        def work(s: Session) -> None:
            article = _find_article(s, site, str(article_id), lock=True)
            version = None
            if article is not None:
                article.last_checked = now
                article.status = "live"
                version = article.current_version or None
                self._schedule(article, now)
            _log_fetch(s, run_id, article, url, status, "not_modified", now,
                       {"not_modified": 1}, version=version)

        self._write(work)

    def record_gone(
        self,
        run_id: int | None,
        site: str,
        article_id: str,
        url: str,
        status: int,
        *,
        fetched_at: datetime | None = None,
        note: str | None = None,
    ) -> None:
        """The article answered 404/410 (status "gone") or redirected away from any article
        (3xx: status "redirected"). Its versions are kept; a later successful fetch makes it
        live again."""
        now = fetched_at or utcnow()
        new_status = "redirected" if 300 <= int(status) < 400 else "gone"

        def work(s: Session) -> None:
            article = _find_article(s, site, str(article_id), lock=True)
            if article is not None:
                article.status = new_status
                article.last_checked = now
                article.etag = article.last_modified = None
                self._schedule(article, now)
            _log_fetch(s, run_id, article, url, status, "gone", now, {"gone": 1},
                       version=article.current_version or None if article else None,
                       message=note)

        self._write(work)

    def record_error(
        self,
        run_id: int | None,
        url: str,
        kind: str,
        message: str,
        *,
        site: str | None = None,
        article_id: str | None = None,
        status: int | None = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        fetched_at: datetime | None = None,
    ) -> None:
        """A fetch that failed (timeout, DNS, 5xx, ...). Counts in `errors` and
        `errors_by_kind[kind]`; the article, if known, is left as it was."""
        now = fetched_at or utcnow()

        def work(s: Session) -> None:
            article = None
            if site is not None and article_id is not None:
                article = _find_article(s, site, str(article_id), lock=False)
            _log_fetch(s, run_id, article, url, status, "error", now,
                       {"errors": 1, "errors_by_kind": {kind: 1}}, error_kind=kind,
                       message=message, raw_page_sha=_store_raw(s, raw, content_type))

        self._write(work)

    def record_parse_failure(
        self,
        run_id: int | None,
        site: str,
        article_id: str | None,
        url: str,
        raw: bytes | None,
        reason: str,
        *,
        status: int = 200,
        content_type: str | None = None,
        fetched_at: datetime | None = None,
    ) -> None:
        """The parser could not read the page at all (ParseError). The raw page is kept on
        the fetch event; no article row is created for an unknown article."""
        now = fetched_at or utcnow()

        def work(s: Session) -> None:
            article = None
            if article_id is not None:
                article = _find_article(s, site, str(article_id), lock=False)
            _log_fetch(s, run_id, article, url, status, "parse_failure", now,
                       {"pages_fetched": 1, "parse_failures": 1}, error_kind="parse_failure",
                       message=reason, raw_page_sha=_store_raw(s, raw, content_type))

        self._write(work)

    def accept_suspect(self, event_id: int, *, note: str | None = None) -> FetchOutcome:
        """Confirm a suspect fetch (after someone looked at it, or the parser was checked):
        its kept record becomes the article's next version, with the fetch's time and raw
        page. Refused when the event is not an unaccepted suspect or when the article has a
        version newer than the fetch. Content equal to the current version creates nothing
        (kind "unchanged"). The run counters of the original fetch are left as they were."""

        def work(s: Session) -> FetchOutcome:
            event = s.get(FetchEvent, event_id, with_for_update=True)
            if event is None or event.outcome != "suspect":
                raise ArchiveError(f"fetch event {event_id} is not a suspect fetch")
            if event.version is not None:
                raise ArchiveError(f"fetch event {event_id} was already accepted")
            if event.record is None or event.article_id is None:
                raise ArchiveError(f"fetch event {event_id} kept no record to accept")
            article = s.scalars(
                select(Article).where(Article.id == event.article_id).with_for_update()
            ).one()
            current = _current_version(s, article)
            if current is not None and current.fetched_at > event.fetched_at:
                raise ArchiveError(
                    f"article has version {current.version} fetched after event {event_id}"
                )
            new = versioning.normalise(event.record)
            digest = versioning.content_hash(new, normalised=True)
            if current is not None and digest == current.content_hash:
                kind, number, changed = "unchanged", current.version, []
            else:
                kind = "new_version" if current is not None else "new_article"
                number = article.current_version + 1
                prev = versioning.normalise(_version_dict(current)) if current else None
                changed = versioning.changed_fields(prev, new)
                decision = versioning.Decision(kind, new, digest, changed)
                s.add(
                    _new_version(
                        article, number, decision, event.record, event.url,
                        event.raw_page_sha, event.fetched_at,
                    )
                )  # fmt: skip
                article.current_version = number
                article.last_changed = event.fetched_at
            event.version = number
            accepted = f"accepted as version {number}" + (f": {note}" if note else "")
            event.message = f"{event.message}; {accepted}" if event.message else accepted
            return FetchOutcome(kind, number, changed, event.message, event.id)

        return self._write(work)

    def _schedule(self, article: Article, now: datetime) -> None:
        if self.revisit_policy is not None:
            article.next_check = revisit.next_check(article, now, self.revisit_policy)

    # -- reading stored content ------------------------------------------------------------

    def get_raw(self, sha256: str) -> bytes | None:
        """The original bytes of a stored raw page, or None."""
        with self._reader() as s:
            page = s.get(RawPage, sha256)
            return _decompress(page, s) if page else None

    def versions(self, site: str, article_id: str) -> list[dict[str, Any]]:
        """All versions of an article, oldest first, as plain dicts (for tests and tools;
        richer querying belongs to a query module)."""
        with self._reader() as s:
            rows = s.scalars(
                select(ArticleVersion)
                .join(Article, ArticleVersion.article_id == Article.id)
                .join(Site, Article.site_id == Site.id)
                .where(Site.name == site, Article.article_id == str(article_id))
                .order_by(ArticleVersion.version)
            ).all()
            return [_version_dict(v, full=True) for v in rows]

    def fetch_events(
        self, run_id: int | None = None, limit: int = 100, outcomes: tuple[str, ...] | None = None
    ) -> list[dict[str, Any]]:
        """Fetch events, newest first (optionally of one run, or only some outcomes, e.g.
        ("suspect", "parse_failure") for the fetches held back for inspection)."""
        with self._reader() as s:
            query = select(FetchEvent).order_by(FetchEvent.id.desc()).limit(limit)
            if run_id is not None:
                query = query.where(FetchEvent.run_id == run_id)
            if outcomes:
                query = query.where(FetchEvent.outcome.in_(outcomes))
            return [_row_dict(e) for e in s.scalars(query).all()]

    # -- leases --------------------------------------------------------------------------

    def acquire_lease(
        self,
        name: str = "crawl",
        holder: str | None = None,
        ttl: float | timedelta = 3600,
    ) -> bool:
        """Take the named lease for `ttl`. True when we hold it now (also when we already
        did: the expiry is extended). A lease that expired, or whose holder ran on this host
        and its pid is gone, is taken over."""
        holder = holder or self.default_holder()
        ttl = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)

        def work(s: Session) -> bool:
            now = utcnow()
            lease = s.scalars(
                select(CrawlLease).where(CrawlLease.name == name).with_for_update()
            ).first()
            if lease is None:
                values = dict(
                    name=name,
                    holder=holder,
                    pid=os.getpid(),
                    host=self.host,
                    acquired_at=now,
                    heartbeat_at=now,
                    expires_at=now + ttl,
                )
                return _insert_ignore(s, CrawlLease, values, ["name"]) == 1
            if lease.holder == holder:
                lease.heartbeat_at, lease.expires_at = now, now + ttl
                return True
            dead = lease.host == self.host and process_gone(lease.pid, lease.acquired_at)
            if lease.expires_at <= now or dead:
                lease.holder, lease.pid, lease.host = holder, os.getpid(), self.host
                lease.acquired_at = lease.heartbeat_at = now
                lease.expires_at = now + ttl
                return True
            return False

        return self._write(work)

    def renew_lease(
        self, name: str = "crawl", holder: str | None = None, ttl: float | timedelta = 3600
    ) -> bool:
        """Extend a lease we hold (heartbeat). False when someone else holds it now."""
        holder = holder or self.default_holder()
        ttl = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)

        def work(s: Session) -> bool:
            now = utcnow()
            result = s.execute(
                update(CrawlLease)
                .where(CrawlLease.name == name, CrawlLease.holder == holder)
                .values(heartbeat_at=now, expires_at=now + ttl)
            )
            return result.rowcount == 1

        return self._write(work)

    def release_lease(self, name: str = "crawl", holder: str | None = None) -> bool:
        """Give the lease up. False when we did not hold it."""
        holder = holder or self.default_holder()

        def work(s: Session) -> bool:
            lease = s.get(CrawlLease, name, with_for_update=True)
            if lease is None or lease.holder != holder:
                return False
            s.delete(lease)
            return True

        return self._write(work)

    def lease_info(self, name: str = "crawl") -> dict[str, Any] | None:
        with self._reader() as s:
            lease = s.get(CrawlLease, name)
            return _row_dict(lease) if lease else None

    def default_holder(self) -> str:
        return f"{self.host}:{os.getpid()}"

    # -- consistency -----------------------------------------------------------------------

    def check(self, *, deep: bool = False) -> list[str]:
        """Consistency problems, as human-readable lines (empty: all good). `deep` also
        decompresses every raw page and verifies its sha256."""
        problems: list[str] = []
        with self._reader() as s:
            if self.engine.dialect.name == "sqlite":
                for (line,) in s.connection().exec_driver_sql("PRAGMA integrity_check"):
                    if line != "ok":
                        problems.append(f"sqlite integrity_check: {line}")
                for row in s.connection().exec_driver_sql("PRAGMA foreign_key_check"):
                    problems.append(f"sqlite foreign_key_check: {tuple(row)}")

            label = {
                a.id: f"{name}/{a.article_id}"
                for a, name in s.execute(select(Article, Site.name).join(Site)).all()
            }
            stats = {
                row.article_id: row
                for row in s.execute(
                    select(
                        ArticleVersion.article_id,
                        func.count().label("n"),
                        func.min(ArticleVersion.version).label("lo"),
                        func.max(ArticleVersion.version).label("hi"),
                    ).group_by(ArticleVersion.article_id)
                )
            }
            for article in s.scalars(select(Article)).all():
                who = label.get(article.id, f"article #{article.id}")
                st = stats.get(article.id)
                if article.status not in ARTICLE_STATUSES:
                    problems.append(f"{who}: unknown status {article.status!r}")
                if article.current_version == 0:
                    if st is not None:
                        problems.append(f"{who}: has versions but current_version is 0")
                    continue
                if st is None or st.hi != article.current_version:
                    problems.append(
                        f"{who}: current version {article.current_version} is not its latest "
                        f"stored version ({st.hi if st else 'none'})"
                    )
                if st is not None and (st.lo != 1 or st.n != st.hi):
                    problems.append(
                        f"{who}: version numbers not contiguous from 1 "
                        f"({st.n} versions, {st.lo}..{st.hi})"
                    )

            previous: dict[int, str] = {}
            for v in s.execute(
                select(
                    ArticleVersion.article_id,
                    ArticleVersion.version,
                    ArticleVersion.content_hash,
                    ArticleVersion.raw_page_sha,
                    RawPage.sha256,
                )
                .outerjoin(RawPage, ArticleVersion.raw_page_sha == RawPage.sha256)
                .order_by(ArticleVersion.article_id, ArticleVersion.version)
            ):
                who = f"{label.get(v.article_id, f'article #{v.article_id}')} v{v.version}"
                if previous.get(v.article_id) == v.content_hash:
                    problems.append(f"{who}: same content hash as the version before it")
                previous[v.article_id] = v.content_hash
                if v.raw_page_sha is None:
                    problems.append(f"{who}: no raw page")
                elif v.sha256 is None:
                    problems.append(f"{who}: raw page {v.raw_page_sha} is missing")

            if deep:
                for page in s.scalars(select(RawPage)).yield_per(50):
                    try:
                        data = _decompress(page, s)
                    except (zstandard.ZstdError, ValueError) as exc:
                        problems.append(f"raw page {page.sha256}: cannot decompress ({exc})")
                        continue
                    if hashlib.sha256(data).hexdigest() != page.sha256:
                        problems.append(f"raw page {page.sha256}: content does not match its hash")
        return problems

    # -- plumbing --------------------------------------------------------------------------

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


# -- helpers (module level: they take the session explicitly) ------------------------------


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (zombies count as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_started_at(pid: int) -> datetime | None:
    """When process `pid` started (Linux /proc); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_gone(pid: int | None, since: datetime) -> bool:
    """Whether the process that was `pid` at `since` (on this host) has ended: no such pid,
    a zombie, or a process that started after `since` (the pid was reused)."""
    if pid is None:
        return False
    if not pid_alive(pid):
        return True
    started = process_started_at(pid)
    # btime has one-second resolution: allow for it.
    return started is not None and started > since + timedelta(seconds=2)


def _retryable(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    if isinstance(exc, IntegrityError):
        # Only a unique-key race (a concurrent insert of the same row won; the retry sees
        # it). A foreign-key or NOT NULL violation is a bug and is raised at once.
        return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return "database is locked" in str(orig)


def _insert_ignore(s: Session, model: type, values: dict[str, Any], keys: list[str]) -> int:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; the number of rows inserted (0 or 1).
    Counted through RETURNING: cursor.rowcount is -1 for this statement under psycopg 3."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key_column = getattr(model, keys[0])
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    return len(s.execute(stmt.returning(key_column)).all())


def _site_id(s: Session, name: str, base_url: str | None = None) -> int:
    site = s.scalars(select(Site).where(Site.name == name)).first()
    if site is None:
        _insert_ignore(
            s, Site, {"name": name, "base_url": base_url, "created_at": utcnow()}, ["name"]
        )
        site = s.scalars(select(Site).where(Site.name == name)).one()
    elif base_url and site.base_url != base_url:
        site.base_url = base_url
    return site.id


def _find_article(s: Session, site: str, article_id: str, *, lock: bool) -> Article | None:
    query = (
        select(Article)
        .join(Site, Article.site_id == Site.id)
        .where(Site.name == site, Article.article_id == article_id)
    )
    if lock:
        query = query.with_for_update(of=Article)
    return s.scalars(query).first()


def _article_for_update(
    s: Session, site_id: int, article_id: str, url: str, now: datetime
) -> Article:
    """The article row, locked (PostgreSQL) for the rest of the transaction; created if new."""
    query = (
        select(Article)
        .where(Article.site_id == site_id, Article.article_id == article_id)
        .with_for_update()
    )
    article = s.scalars(query).first()
    if article is None:
        values = dict(
            site_id=site_id,
            article_id=article_id,
            url=url,
            status="live",
            current_version=0,
            first_seen=now,
        )
        _insert_ignore(s, Article, values, ["site_id", "article_id"])
        article = s.scalars(query).one()
    return article


def _current_version(s: Session, article: Article) -> ArticleVersion | None:
    if not article.current_version:
        return None
    return s.scalars(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article.id,
            ArticleVersion.version == article.current_version,
        )
    ).first()


def _touch_url(s: Session, article: Article, url: str, now: datetime) -> None:
    inserted = _insert_ignore(
        s,
        ArticleUrl,
        {"article_id": article.id, "url": url, "first_seen": now, "last_seen": now},
        ["article_id", "url"],
    )
    if not inserted:
        s.execute(
            update(ArticleUrl)
            .where(ArticleUrl.article_id == article.id, ArticleUrl.url == url)
            .values(last_seen=now)
        )


def _new_version(
    article: Article,
    number: int,
    decision: versioning.Decision,
    record: dict[str, Any],
    url: str,
    raw_sha: str | None,
    now: datetime,
) -> ArticleVersion:
    norm = decision.normalised
    sources = record.get("sources")
    return ArticleVersion(
        article_id=article.id,
        version=number,
        content_hash=decision.content_hash,
        changed_fields=list(decision.changed_fields),
        fetched_at=now,
        parser_version=_str_or_none(record.get("parser_version")),
        raw_page_sha=raw_sha,
        url=url,
        canonical_url=record.get("canonical_url"),
        section=norm["section"],
        title=norm["title"],
        lead=norm["lead"],
        body=norm["body"],
        authors=norm["authors"],
        published_at=versioning.parse_instant(norm["published_at"]),
        updated_at=versioning.parse_instant(norm["updated_at"]),
        paywalled=norm["paywalled"],
        paywall_percent=norm["paywall_percent"],
        body_complete=norm["body_complete"],
        tags=norm["tags"],
        image=norm["image"],
        related=norm["related"],
        word_count=record.get("word_count"),
        sources=dict(sources) if isinstance(sources, dict) else None,
    )


# Every field a version stores as parsed; normalise() of them reproduces the hash input.
_VERSION_FIELDS = versioning.REPORTED_FIELDS


def _version_dict(v: ArticleVersion, *, full: bool = False) -> dict[str, Any]:
    """A stored version as a record-like dict (normalise() of it reproduces its hash input)."""
    data = {name: getattr(v, name) for name in _VERSION_FIELDS}
    if full:
        data.update(
            version=v.version,
            content_hash=v.content_hash,
            changed_fields=v.changed_fields,
            fetched_at=v.fetched_at,
            parser_version=v.parser_version,
            raw_page_sha=v.raw_page_sha,
            url=v.url,
            canonical_url=v.canonical_url,
            word_count=v.word_count,
            sources=v.sources,
        )
    return data


def _store_raw(s: Session, raw: bytes | None, content_type: str | None) -> str | None:
    """Store bytes once by sha256 (zstd, with the archive's dictionary once it has one; see
    storage/compression.py); returns the key."""
    if raw is None:
        return None
    sha = hashlib.sha256(raw).hexdigest()
    if s.scalar(select(RawPage.sha256).where(RawPage.sha256 == sha)) is not None:
        return sha  # already stored (checked without loading the blob)
    data, compression = _codec(s).compress(s, raw)
    _insert_ignore(
        s,
        RawPage,
        {
            "sha256": sha,
            "data": data,
            "size": len(raw),
            "compression": compression,
            "content_type": content_type,
            "encoding": _charset(content_type),
            "stored_at": utcnow(),
        },
        ["sha256"],
    )
    return sha


def _codec(s: Session) -> PageCodec:
    codec = s.info.get("page_codec")
    if codec is None:  # a session not made by an Archive
        codec = s.info["page_codec"] = PageCodec(plain_level=ZSTD_LEVEL)
    return codec


def _decompress(page: RawPage, s: Session) -> bytes:
    if page.compression == "none":
        return page.data
    if page.compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(page.data, max_output_size=page.size)
    if is_dict_compression(page.compression):
        return _codec(s).decompress(s, page)
    raise ArchiveError(f"unknown compression {page.compression!r} for raw page {page.sha256}")


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'").lower()
    return None


def _run_for_update(s: Session, run_id: int) -> CrawlRun:
    run = s.get(CrawlRun, run_id, with_for_update=True)
    if run is None:
        raise ArchiveError(f"no crawl run {run_id}")
    return run


def _log_fetch(s: Session, run_id: int | None, article: Article | None, url: str,
               status: int | None, outcome: str, now: datetime, counters: dict[str, Any],
               **fields: Any) -> None:
    """One fetch event for an outcome that creates no version, and its run counters."""
    s.add(FetchEvent(run_id=run_id, article_id=article.id if article else None, url=url,
                     http_status=status, outcome=outcome, fetched_at=now, **fields))
    _bump(s, run_id, counters)


def _bump(s: Session, run_id: int | None, deltas: dict[str, Any]) -> None:
    """Increment run counters in place; `errors_by_kind` is merged key by key."""
    if run_id is None or not deltas:
        return
    unknown = set(deltas) - set(RUN_COUNTERS) - {"errors_by_kind"}
    if unknown:
        raise ArchiveError(f"unknown run counters: {sorted(unknown)}")
    kinds = deltas.get("errors_by_kind") or {}
    counters = {k: int(v) for k, v in deltas.items() if k != "errors_by_kind" and v}
    if kinds:
        run = _run_for_update(s, run_id)
        merged = dict(run.errors_by_kind or {})
        for kind, n in kinds.items():
            merged[kind] = merged.get(kind, 0) + int(n)
        run.errors_by_kind = merged
        for name, n in counters.items():
            setattr(run, name, getattr(run, name) + n)
        return
    if counters:
        # Atomic in SQL, so concurrent writers never lose an increment.
        result = s.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values({getattr(CrawlRun, k): getattr(CrawlRun, k) + n for k, n in counters.items()})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise ArchiveError(f"no crawl run {run_id}")


def _state(article: Article, site: str) -> ArticleState:
    return ArticleState(
        site=site,
        article_id=article.article_id,
        url=article.url,
        status=article.status,
        current_version=article.current_version,
        etag=article.etag,
        last_modified=article.last_modified,
        first_seen=article.first_seen,
        last_checked=article.last_checked,
        last_changed=article.last_changed,
        next_check=article.next_check,
        published_at=article.published_at,
    )


def _row_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def _run_dict(run: CrawlRun, site: str | None) -> dict[str, Any]:
    data = _row_dict(run)
    data["site"] = site
    return data


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _jsonable(value: Any) -> Any:
    """The record as JSON-safe data (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
