"""The planner's record of crawls handed to Scrapyd nodes (table cluster_jobs), and what it
needs of the runs: the run a job opened (its options carry `job`, see
crawler/extensions.py), the last completed crawl of each site, and failing a job whose node
stopped answering or lost it, with its run (a job that never opened one gets a failed run
all the same: every crawl is recorded)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import runs
from storage.models import ClusterJob, CrawlRun, Site
from storage.rows import row_dict
from storage.types import utcnow

# A run opens a little after its job is scheduled; the clocks of planner and database
# may differ by this much.
CLOCK_SLACK = timedelta(minutes=5)


def add_job(s: Session, site: str, node: str, job: str) -> int:
    row = ClusterJob(site=site, node=node, job=job, state="scheduled", scheduled_at=utcnow())
    s.add(row)
    s.flush()
    return row.id


def active_jobs(s: Session) -> list[dict[str, Any]]:
    """Jobs scheduled and not yet seen to end, oldest first."""
    rows = s.scalars(select(ClusterJob).where(ClusterJob.state == "scheduled")
                     .order_by(ClusterJob.id)).all()
    return [row_dict(row) for row in rows]


def list_jobs(s: Session, limit: int = 50) -> list[dict[str, Any]]:
    rows = s.scalars(select(ClusterJob).order_by(ClusterJob.id.desc()).limit(limit)).all()
    return [row_dict(row) for row in rows]


def _run_of(s: Session, job: ClusterJob) -> CrawlRun | None:
    candidates = s.scalars(
        select(CrawlRun).join(Site, CrawlRun.site_id == Site.id)
        .where(Site.name == job.site, CrawlRun.started_at >= job.scheduled_at - CLOCK_SLACK)
        .order_by(CrawlRun.id)).all()
    return next((run for run in candidates if (run.options or {}).get("job") == job.job), None)


def job_run(s: Session, job_id: int) -> dict[str, Any] | None:
    """The run job `job_id` opened, if it did."""
    run = _run_of(s, s.get(ClusterJob, job_id))
    return row_dict(run) if run is not None else None


def settle_job(s: Session, job_id: int, state: str, note: str | None = None) -> int | None:
    """End a job: "done" (its crawl closed its run), or "failed" with the reason, which
    also fails its run if still open (or records a failed one if it never opened).
    Returns the run id."""
    job = s.get(ClusterJob, job_id, with_for_update=True)
    run = _run_of(s, job)
    if state == "failed":
        if run is None:
            run_id = runs.start_run(s, job.site, None, "scheduled",
                                    {"node": job.node, "job": job.job}, pid=0, host=job.node,
                                    started_at=job.scheduled_at)
            runs.finish_run(s, run_id, "failed", note=note)
        elif run.status == "running":
            runs.finish_run(s, run.id, "failed", note=note)
            run_id = run.id
        else:
            run_id = run.id
    else:
        run_id = run.id if run is not None else None
    job.state, job.note, job.run_id, job.finished_at = state, note, run_id, utcnow()
    return run_id


def last_completed(s: Session, sites: list[str]) -> dict[str, datetime]:
    """Site -> start of its latest completed run (crawls that failed or were skipped do not
    count: the site is due again)."""
    rows = s.execute(
        select(Site.name, func.max(CrawlRun.started_at))
        .join(CrawlRun, CrawlRun.site_id == Site.id)
        .where(Site.name.in_(sites), CrawlRun.status == "completed")
        .group_by(Site.name)).all()
    return {name: started for name, started in rows}
