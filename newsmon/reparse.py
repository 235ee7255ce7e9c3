"""Re-parsing the archive from its raw pages (`newsmon reparse`): the current parser and site
profile run again over stored pages, and the archive is corrected through storage's write
primitives (storage/reparse.py; jobs and reads in storage/reparse_jobs.py).

The work goes article by article, in batches of whole articles:
1. the main process reads a batch's pages (still compressed) and hands them to worker
   processes (newsmon/reparse_worker.py: decompress, decode, parse; for held pages also the
   crawl's validation), keeping the next batch in the pool while it writes this one;
2. it writes the batch in one transaction: each article's chain corrected
   (storage.reparse.correct_chain) or its held fetches re-decided (resolve_held), with the
   job's cursor moved past the batch in the same transaction. A kill at any moment leaves
   whole articles done or untouched, and the next run with the same options resumes after
   the last committed batch.

One re-parse runs at a time (the "reparse" lease). A crawl may run beside it: both lock an
article's row before writing it (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on
SQLite), and a re-parse re-reads the article's chain inside its transaction, so whatever the
crawl committed first is part of what it corrects. A dry run does the same writes in
transactions that are rolled back.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from newsmon import reparse_worker
from storage import reparse_jobs as jobs
from storage.reparse import EXAMPLES, Parsed, correct_chain, resolve_held, to_correct
from storage.versioning import DEFAULT_MAX_BODY_SHRINK

LEASE_TTL = 600  # seconds; renewed after every batch
AHEAD = 2  # batches handed to the workers beyond the one being written
# Per-version counters of a re-parse of archived versions, and of held fetches.
VERSION_COUNTS = ("pages", "changed", "refreshed", "unchanged", "unusable", "skipped",
                  "artefacts_marked", "artefacts_cleared", "derived_rewritten",
                  "events_added", "events_removed", "events_updated")
HELD_COUNTS = ("pages", "new_article", "new_version", "unchanged", "held", "skipped")


class ReparseBusy(RuntimeError):
    """Another re-parse holds the lease."""


@dataclass
class Options:
    site: str | None = None
    article: int | None = None  # archive id
    since: datetime | None = None
    suspects: bool = False
    dry_run: bool = False
    variant: str | None = None  # None: the one in force at each page's fetch time
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    batch: int = 40  # articles per write transaction
    chunk: int = 8  # pages per worker task
    max_body_shrink: float = DEFAULT_MAX_BODY_SHRINK

    def job_key(self) -> dict[str, Any]:
        """What makes two runs the same job (the one to resume)."""
        return {"site": self.site, "article": self.article, "suspects": self.suspects,
                "since": self.since.isoformat() if self.since else None,
                "variant": self.variant}


@dataclass
class Report:
    suspects: bool
    dry_run: bool
    job_id: int | None = None
    resumed_after: int | None = None  # the article id a resumed job continued after
    counts: Counter = field(default_factory=Counter)
    fields: Counter = field(default_factory=Counter)  # field -> values changed
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # bad input, reported
    notes: list[dict[str, Any]] = field(default_factory=list)  # unusable / still held ...
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("read", "decompress", "parse", "write"), 0.0))

    @property
    def pages_per_s(self) -> float:
        return self.counts["pages"] / self.seconds if self.seconds else 0.0

    def shares(self) -> dict[str, float]:
        total = sum(self.cpu.values()) or 1.0
        return {k: round(v / total, 3) for k, v in self.cpu.items()}

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.update(counts=dict(self.counts), fields=dict(self.fields),
                   pages_per_s=round(self.pages_per_s, 1), shares=self.shares(),
                   cpu={k: round(v, 3) for k, v in self.cpu.items()})
        return doc


def reparse(archive, options: Options,
            progress: Callable[[Report], None] | None = None) -> Report:
    """Re-parse what `options` select (archived versions, or with `suspects` the fetches
    held back) and correct the archive; returns what was done (or, dry, would be)."""
    report = Report(options.suspects, options.dry_run)
    report.counts.update(dict.fromkeys(HELD_COUNTS if options.suspects else VERSION_COUNTS, 0))
    job = None
    if not options.dry_run:
        if not archive.acquire_lease(jobs.LEASE, ttl=LEASE_TTL):
            holder = (archive.lease_info(jobs.LEASE) or {}).get("holder")
            raise ReparseBusy(f"another re-parse is running ({holder})")
        job, resumed = jobs.open_job(archive, options.job_key())
        report.job_id = job["id"]
        if resumed:
            report.resumed_after = job["cursor"]
            _restore(report, job.get("counts") or {})
    started = time.perf_counter()
    status = "failed"
    try:
        for batch in _pipeline(archive, options, job["cursor"] if job else 0, report):
            _write(archive, options, batch, report, job)
            if job is not None:
                archive.renew_lease(jobs.LEASE, ttl=LEASE_TTL)
            report.seconds = time.perf_counter() - started
            if progress is not None:
                progress(report)
        status = "completed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        report.seconds = time.perf_counter() - started
        if job is not None:
            jobs.finish_job(archive, job["id"], status, _saved(report))
            archive.release_lease(jobs.LEASE)
    return report


# -- reading and parsing ----------------------------------------------------------------------


@dataclass
class _Batch:
    articles: list[int]
    pages: list[dict[str, Any]]
    results: Any  # futures of parsed chunks, or the parsed pages


def _pipeline(archive, options: Options, cursor: int, report: Report) -> Iterator[_Batch]:
    """Batches of whole articles with their pages parsed, reading and parsing AHEAD batches
    ahead of the one being written (so the workers never wait for a write)."""
    held = options.suspects
    dicts = jobs.dictionaries(archive)
    pool = None
    if options.workers > 0:
        pool = ProcessPoolExecutor(options.workers, mp_context=_start_method(),
                                   initializer=reparse_worker.init,
                                   initargs=(dicts, options.variant))
    else:
        reparse_worker.init(dicts, options.variant)
    pending: deque[_Batch] = deque()
    try:
        while True:
            start = time.process_time()
            find = jobs.held_articles if held else jobs.next_articles
            ids = find(archive, cursor, options.batch, site=options.site,
                       article=options.article, since=options.since)
            read = jobs.held_pages if held else jobs.version_pages
            pages = read(archive, ids, since=options.since) if ids else []
            report.cpu["read"] += time.process_time() - start
            if ids:
                cursor = ids[-1]
                pending.append(_Batch(ids, pages, _submit(pool, pages, options.chunk, held)))
            if pending and (len(pending) > AHEAD or not ids):
                batch = pending.popleft()
                batch.results = _collect(batch.results, report)
                yield batch
            if not ids and not pending:
                return
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _start_method():
    """fork when it is safe (POSIX, and no other thread here that a fork would leave half
    copied): the workers start with the parser already imported, where spawning them costs
    seconds of imports per run; spawn otherwise."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _submit(pool, pages: list[dict[str, Any]], chunk: int, held: bool):
    if pool is None:
        return [reparse_worker.parse_pages(pages, held)]
    return [pool.submit(reparse_worker.parse_pages, pages[i:i + chunk], held)
            for i in range(0, len(pages), chunk)]


def _collect(parts, report: Report) -> dict[int, dict[str, Any]]:
    out = {}
    for part in parts:
        for result in part if isinstance(part, list) else part.result():
            report.cpu["decompress"] += result["decompress"]
            report.cpu["parse"] += result["parse"]
            out[result["key"]] = result
    return out


# -- writing ----------------------------------------------------------------------------------


def _write(archive, options: Options, batch: _Batch, report: Report, job) -> None:
    start = time.process_time()
    if options.suspects:
        def work(s):
            return _held_work(s, options, batch, job)
    else:
        plan = _plan(archive, batch)
        def work(s):
            return _versions_work(s, plan, job)
    count = jobs.write(archive, lambda s: _advanced(s, work(s), report, batch, job),
                       dry_run=options.dry_run)
    report.cpu["write"] += time.process_time() - start
    count(report)  # counted only once the transaction is committed (or rolled back, dry)


def _advanced(s, count: Callable[[Report], None], report: Report, batch: _Batch, job):
    """The job's cursor and running totals moved past the batch, in its transaction."""
    if job is not None:
        jobs.advance_job(s, job["id"], batch.articles[-1], _saved(_merged(report, count)))
    return count


@dataclass
class _Plan:
    """A batch of versions sorted out before its transaction: what to correct, what to
    report."""

    parsed: dict[int, dict[int, Parsed]]  # article -> version id -> Parsed
    todo: set[int]  # the articles whose stored versions differ
    skipped: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    pages: int


def _plan(archive, batch: _Batch) -> _Plan:
    parsed: dict[int, dict[int, Parsed]] = {}
    skipped, notes = [], []
    for page in batch.pages:
        result = batch.results[page["key"]]
        where = {"id": page["article_id"], "article_id": page["site_article_id"],
                 "version": page["version"]}
        if result["bad"]:
            skipped.append({**where, "reason": result["bad"]})
        elif result["problem"]:
            notes.append({**where, "kept": result["problem"]})
        elif result["record"].missing:
            notes.append({**where, "kept": "the new record has no "
                                           + ", ".join(result["record"].missing)})
        else:
            parsed.setdefault(page["article_id"], {})[page["key"]] = result["record"]
    every = {vid: p for versions in parsed.values() for vid, p in versions.items()}
    return _Plan(parsed, to_correct(archive, every), skipped, notes, len(batch.pages))


def _versions_work(s, plan: _Plan, job) -> Callable[[Report], None]:
    reason = "re-parse" + (f" job {job['id']}" if job else "")
    chains = [correct_chain(s, article, plan.parsed[article],
                            job_id=job["id"] if job else None, reason=reason)
              for article in sorted(plan.todo)]
    compared = sum(len(v) for v in plan.parsed.values())

    def count(report: Report) -> None:
        c = report.counts
        c["pages"] += plan.pages
        c["skipped"] += len(plan.skipped)
        c["unusable"] += len(plan.notes)
        report.skipped += plan.skipped
        report.notes += plan.notes
        c["unchanged"] += compared
        for chain in chains:
            c["changed"] += chain.changed
            c["refreshed"] += chain.refreshed
            c["unchanged"] -= chain.changed + chain.refreshed
            for name in VERSION_COUNTS[6:]:
                c[name] += getattr(chain, name)
            report.fields.update(chain.fields)
            for name, examples in chain.examples.items():
                kept = report.examples.setdefault(name, [])
                kept += examples[:EXAMPLES - len(kept)]

    return count


def _held_work(s, options: Options, batch: _Batch, job) -> Callable[[Report], None]:
    outcomes = []
    for page in batch.pages:
        result = batch.results[page["key"]]
        where = {"event": page["key"], "id": page["article_id"],
                 "article_id": page["site_article_id"]}
        if result["bad"]:
            outcomes.append(("skipped", {**where, "reason": result["bad"]}, True))
            continue
        held = resolve_held(s, page["key"], result["record"], result["problem"],
                            job_id=job["id"] if job else None,
                            max_body_shrink=options.max_body_shrink)
        outcomes.append((held.kind, {**where, "version": held.version, "reason": held.reason,
                                     "changed_fields": list(held.changed_fields)}, False))

    def count(report: Report) -> None:
        report.counts["pages"] += len(outcomes)
        for kind, detail, bad in outcomes:
            report.counts[kind] += 1
            (report.skipped if bad else report.notes).append({"outcome": kind, **detail})
            if kind in ("new_version", "new_article"):
                report.fields.update(detail["changed_fields"])

    return count


def _merged(report: Report, count: Callable[[Report], None]) -> Report:
    """`report` with a batch counted in, as a copy (the job row stores the running totals in
    the batch's transaction, before the batch is counted for real)."""
    copy = Report(report.suspects, report.dry_run)
    copy.counts, copy.fields = Counter(report.counts), Counter(report.fields)
    count(copy)
    return copy


def _saved(report: Report) -> dict[str, Any]:
    return {"counts": dict(report.counts), "fields": dict(report.fields),
            "skipped": len(report.skipped)}


def _restore(report: Report, saved: dict[str, Any]) -> None:
    report.counts.update(saved.get("counts") or {})
    report.fields.update(saved.get("fields") or {})
