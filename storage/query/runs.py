"""Crawl runs and their fetch events, as plain dicts: `newsmon runs`, the web's runs page,
and the crawl itself (Archive.get_run, run_for_process, last_run_started delegate here).

A run is every crawl_runs column (the counters: storage.models.RUN_COUNTERS) plus `site`
(the site's name); a fetch event every fetch_events column."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from storage.models import CrawlRun, FetchEvent, Site
from storage.query.connection import reading


def _runs():
    return (select(CrawlRun.__table__, Site.name.label("site"))
            .outerjoin(Site, CrawlRun.site_id == Site.id))


def _first(archive, query) -> dict[str, Any] | None:
    with reading(archive) as conn:
        row = conn.execute(query).first()
    return dict(row._mapping) if row else None


def list_runs(archive, limit: int = 20, site: str | None = None) -> list[dict[str, Any]]:
    """The most recent runs (of `site` when given), newest first."""
    query = _runs() if site is None else _runs().where(Site.name == site)
    with reading(archive) as conn:
        rows = conn.execute(query.order_by(CrawlRun.id.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def get_run(archive, run_id: int) -> dict[str, Any] | None:
    return _first(archive, _runs().where(CrawlRun.id == run_id))


def run_for_process(
    archive, pid: int, *, host: str, started_after: datetime | None = None
) -> dict[str, Any] | None:
    """The latest run opened by process `pid` on `host`, optionally only one started after
    `started_after` (pids are reused)."""
    query = (_runs().where(CrawlRun.pid == pid, CrawlRun.host == host)
             .order_by(CrawlRun.id.desc()).limit(1))
    if started_after is not None:
        query = query.where(CrawlRun.started_at >= started_after)
    return _first(archive, query)


def last_run_started(
    archive, *, trigger: str | None = None, site: str | None = None
) -> datetime | None:
    """When the most recent run (of this trigger / site, if given) started."""
    query = select(func.max(CrawlRun.started_at))
    if trigger is not None:
        query = query.where(CrawlRun.trigger == trigger)
    if site is not None:
        query = query.join(Site, CrawlRun.site_id == Site.id).where(Site.name == site)
    with reading(archive) as conn:
        value = conn.scalar(query)
    if value is None:
        return None
    # func.max() loses the column type on SQLite: re-attach UTC to the text it returns.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def list_fetch_events(
    archive, run_id: int | None = None, limit: int = 100,
    outcomes: tuple[str, ...] | None = None, site: str | None = None,
) -> list[dict[str, Any]]:
    """Fetch events, newest first (optionally of one run, of one site's runs, or only some
    outcomes, e.g. ("suspect", "parse_failure") for the fetches held back for inspection)."""
    query = select(FetchEvent.__table__).order_by(FetchEvent.id.desc()).limit(limit)
    if run_id is not None:
        query = query.where(FetchEvent.run_id == run_id)
    if site is not None:
        query = (query.join(CrawlRun, FetchEvent.run_id == CrawlRun.id)
                 .join(Site, CrawlRun.site_id == Site.id).where(Site.name == site))
    if outcomes:
        query = query.where(FetchEvent.outcome.in_(outcomes))
    with reading(archive) as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
