"""Crawl runs: opening and closing them, their counters, and closing runs whose process is
gone. Reading runs back is storage.query.runs."""

from __future__ import annotations

import contextlib
import functools
import os
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from storage.errors import ArchiveError
from storage.models import RUN_COUNTERS, RUN_STATUSES, RUN_TRIGGERS, CrawlRun
from storage.outbox import record_run_events
from storage.processes import process_gone
from storage.rows import site_id
from storage.types import utcnow

# The counters each fetch outcome (fetch_events.outcome) adds one to.
OUTCOME_COUNTERS = {
    "new_article": ("pages_fetched", "new_articles", "new_versions"),
    "new_version": ("pages_fetched", "new_versions"),
    "unchanged": ("pages_fetched", "unchanged"),
    "suspect": ("pages_fetched", "suspect"),
    "parse_failure": ("pages_fetched", "parse_failures"),
    "not_modified": ("not_modified",),
    "gone": ("gone",),
    "error": ("errors",),
}


def start_run(
    s: Session,
    site: str,
    base_url: str | None,
    trigger: str,
    options: dict[str, Any] | None,
    *,
    pid: int | None,
    host: str,
    started_at: datetime | None,
) -> int:
    """Open a crawl run (status "running") and return its id."""
    if trigger not in RUN_TRIGGERS:
        raise ArchiveError(f"invalid trigger {trigger!r}; expected one of {RUN_TRIGGERS}")
    run = CrawlRun(
        site_id=site_id(s, site, base_url),
        trigger=trigger,
        status="running",
        started_at=started_at or utcnow(),
        pid=os.getpid() if pid is None else pid,
        host=host,
        options=options,
        errors_by_kind={},
        **dict.fromkeys(RUN_COUNTERS, 0),
    )
    s.add(run)
    s.flush()
    return run.id


def finish_run(
    s: Session,
    run_id: int,
    status: str,
    note: str | None = None,
    coverage: dict[str, Any] | None = None,
    degraded: bool = False,
    *,
    finished_at: datetime | None = None,
) -> None:
    """Close a run with its final status; `note`, `coverage` (field -> share of parsed pages)
    and `degraded` as the crawl judged them (crawler/run_status.py). The run's operational
    events (run_failed, run_degraded, suspects_held) are written in the same transaction."""
    if status not in RUN_STATUSES or status == "running":
        raise ArchiveError(f"invalid final status {status!r}")
    run = run_for_update(s, run_id)
    run.status = status
    run.finished_at = finished_at or utcnow()
    run.degraded = bool(degraded)
    if note is not None:
        run.note = note
    if coverage is not None:
        run.coverage = coverage
    record_run_events(s, run)


def bump_run(s: Session, run_id: int | None, **deltas: Any) -> None:
    """Add to a run's counters, e.g. `bump_run(id, errors=1, retries=2,
    errors_by_kind={"timeout": 1})`; `errors_by_kind` is merged key by key. No run (None):
    nothing to count."""
    if run_id is None or not deltas:
        return
    unknown = set(deltas) - set(RUN_COUNTERS) - {"errors_by_kind"}
    if unknown:
        raise ArchiveError(f"unknown run counters: {sorted(unknown)}")
    pending = s.info.get(_PENDING)
    if pending is not None:  # inside counted_together(): added up, written at its end
        sums = pending.setdefault(run_id, {})
        for name, n in deltas.items():
            if name == "errors_by_kind":
                kinds = sums.setdefault(name, {})
                for kind, k in n.items():
                    kinds[kind] = kinds.get(kind, 0) + k
            else:
                sums[name] = sums.get(name, 0) + n
        return
    kinds = deltas.get("errors_by_kind") or {}
    counters = {k: int(v) for k, v in deltas.items() if k != "errors_by_kind" and v}
    if kinds:
        run = run_for_update(s, run_id)
        merged = dict(run.errors_by_kind or {})
        for kind, n in kinds.items():
            merged[kind] = merged.get(kind, 0) + int(n)
        run.errors_by_kind = merged
        for name, n in counters.items():
            setattr(run, name, getattr(run, name) + n)
        return
    if counters:
        # Atomic in SQL, so concurrent writers never lose an increment.
        result = s.execute(_bump_stmt(tuple(sorted(counters.items()))), {"run_id": run_id})
        if result.rowcount != 1:
            raise ArchiveError(f"no crawl run {run_id}")


@functools.cache
def _bump_stmt(counters: tuple[tuple[str, int], ...]):
    # Built once per set of increments (a crawl bumps the same few for every article): making
    # the statement cost more CPU than running it. Core, so no ORM session synchronisation.
    table = CrawlRun.__table__
    return (update(table).where(table.c.id == bindparam("run_id"))
            .values({table.c[k]: table.c[k] + n for k, n in counters}))


_PENDING = "pending_run_counts"


@contextlib.contextmanager
def counted_together(s: Session):
    """Run counters bumped inside are added up and written when the block ends, in the same
    transaction: a write batch of 50 fetches updates its run once, not 50 times."""
    pending: dict[int, dict[str, Any]] = {}
    s.info[_PENDING] = pending
    try:
        yield
    finally:
        del s.info[_PENDING]
    for run_id, deltas in pending.items():
        bump_run(s, run_id, **deltas)


def count_outcome(s: Session, run_id: int | None, outcome: str, **extra: Any) -> None:
    """Count one fetch with this outcome in its run (plus `extra` counters, e.g.
    errors_by_kind)."""
    bump_run(s, run_id, **dict.fromkeys(OUTCOME_COUNTERS[outcome], 1), **extra)


def run_for_update(s: Session, run_id: int) -> CrawlRun:
    run = s.get(CrawlRun, run_id, with_for_update=True)
    if run is None:
        raise ArchiveError(f"no crawl run {run_id}")
    return run


def mark_interrupted_runs(
    s: Session, *, status: str, stale_after: timedelta | None, host: str
) -> list[int]:
    """Close runs left "running" by a process that is gone: on `host` (this one), when its
    pid no longer runs; on any host, when it started more than `stale_after` ago (if given).
    Returns the ids of the runs closed."""
    if status not in ("interrupted", "failed"):
        raise ArchiveError("status must be 'interrupted' or 'failed'")
    now = utcnow()
    runs = s.scalars(
        select(CrawlRun).where(CrawlRun.status == "running").order_by(CrawlRun.id)
        .with_for_update()
    ).all()
    closed = []
    for run in runs:
        dead = run.host == host and process_gone(run.pid, run.started_at)
        stale = stale_after is not None and now - run.started_at > stale_after
        if dead or stale:
            run.status = status
            run.finished_at = now
            why = "process gone" if dead else f"running longer than {stale_after}"
            run.note = f"{run.note}; {why}" if run.note else why
            record_run_events(s, run)
            closed.append(run.id)
    return closed
