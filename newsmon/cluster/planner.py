"""The planner: each tick, the one daemon holding the planner lock (a PostgreSQL advisory
lock, on a connection it keeps open) settles the jobs it handed to Scrapyd nodes and hands
each due site to the node with the fewest jobs.

- One active planner: every daemon tries the lock at each tick; the holder's connection
  dies with it, so a standby takes over at its next tick (within one interval).
- A job ends "done" when its crawl closed its run. It fails (with its run, reason noted) when
  its node stops answering, or when the node no longer lists it (two ticks in a row) and its
  run is not closed. The site is then due again and planned on a node that answers.
- One crawl of a site at a time: a site with a job in progress is not planned; the per-site
  crawl lease in the archive (crawler/extensions.py) stays the guard whatever the planner
  believes (a node cut off from the planner but not from the archive)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from newsmon.cluster import ClusterConfig, load_cluster
from newsmon.cluster.scrapyd import Node, NodeError, ScrapydClient
from storage.types import utcnow

logger = logging.getLogger("newsmon.schedule.cluster")  # the daemon's log

# The key of the planner's advisory lock (any constant no other lock of the archive uses).
PLANNER_LOCK = 0x6E6D_706C  # "nmpl"


@dataclass
class NodeState:
    node: Node
    error: str | None = None  # why it is down this tick
    jobs: dict[str, set[str]] = field(default_factory=dict)  # pending/running/finished -> ids

    @property
    def up(self) -> bool:
        return self.error is None

    @property
    def busy(self) -> int:
        return len(self.jobs.get("pending", ())) + len(self.jobs.get("running", ()))

    def state_of(self, job: str) -> str | None:
        return next((state for state, ids in self.jobs.items() if job in ids), None)


@dataclass
class TickReport:
    leader: bool
    scheduled: list[tuple[str, str, str]] = field(default_factory=list)  # site, node, job
    done: list[tuple[str, str]] = field(default_factory=list)  # site, job
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # site, node, reason
    down: list[str] = field(default_factory=list)  # nodes that did not answer


def node_states(config: ClusterConfig) -> list[NodeState]:
    states = []
    for node in config.nodes:
        client = ScrapydClient(node, config.timeout)
        state = NodeState(node)
        try:
            client.daemonstatus()
            state.jobs = {name: {job["id"] for job in jobs}
                          for name, jobs in client.listjobs(config.project).items()}
        except NodeError as exc:
            state.error = str(exc)
        states.append(state)
    return states


class Planner:
    def __init__(self, archive, config: ClusterConfig, node_db_url: str):
        if archive.engine.dialect.name != "postgresql":
            raise ValueError("a cluster needs a PostgreSQL archive shared by every node")
        self.archive = archive
        self.config = config
        self.node_db_url = node_db_url  # what the nodes' crawls write to
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._lock_conn = None
        self._missing: set[int] = set()  # jobs their node did not list at the last tick

    # -- the planner lock ------------------------------------------------------------------

    def lead(self) -> bool:
        """True while this planner holds the lock (taking it when free)."""
        if self._lock_conn is not None:
            try:
                self._lock_conn.exec_driver_sql("SELECT 1")
                return True
            except Exception:  # the connection broke: the lock went with it
                logger.warning("planner lock connection lost")
                self._drop_lock()
        conn = self.archive.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                           {"key": PLANNER_LOCK}).scalar()
        if got:
            self._lock_conn = conn
            self._missing.clear()
            logger.info("planner %s is the active planner", self.name)
            return True
        conn.close()
        return False

    def _drop_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            try:
                conn.close()  # a closed session releases its advisory locks
            except Exception:  # noqa: BLE001 - already broken
                pass

    def close(self) -> None:
        self._drop_lock()

    # -- one tick --------------------------------------------------------------------------

    def tick(self) -> TickReport:
        if not self.lead():
            return TickReport(leader=False)
        report = TickReport(leader=True)
        states = node_states(self.config)
        report.down = [s.node.name for s in states if not s.up]
        busy_sites = self._settle(states, report)
        self._plan(states, busy_sites, report)
        return report

    def _settle(self, states: list[NodeState], report: TickReport) -> set[str]:
        """Close the jobs that ended; returns the sites with a job still in progress."""
        by_name = {s.node.name: s for s in states}
        busy = set()
        for job in self.archive.active_cluster_jobs():
            state = by_name.get(job["node"])
            reason = None
            if state is None:
                reason = f"node {job['node']} is no longer configured"
            elif not state.up:
                reason = f"node {job['node']} stopped answering ({state.error})"
            else:
                seen = state.state_of(job["job"])
                if seen in ("pending", "running"):
                    self._missing.discard(job["id"])
                    busy.add(job["site"])
                    continue
                run = self.archive.cluster_job_run(job["id"])
                if run is not None and run["status"] != "running":
                    self.archive.settle_cluster_job(job["id"], "done")
                    report.done.append((job["site"], job["job"]))
                    continue
                if seen == "finished":
                    reason = (f"job {job['job']} on {job['node']} ended without closing "
                              f"its run")
                elif job["id"] not in self._missing:
                    # Not listed at all: give a job caught between two lists one more tick.
                    self._missing.add(job["id"])
                    busy.add(job["site"])
                    continue
                else:
                    reason = f"node {job['node']} lost job {job['job']}"
            self._missing.discard(job["id"])
            self.archive.settle_cluster_job(job["id"], "failed", reason)
            report.failed.append((job["site"], job["node"], reason))
            logger.warning("site %s: %s; planned again", job["site"], reason)
        return busy

    def due_sites(self, busy: set[str]) -> list[str]:
        last = self.archive.last_completed_runs(self.config.sites)
        cutoff = utcnow() - timedelta(seconds=self.config.every)
        due = [site for site in self.config.sites
               if site not in busy and (site not in last or last[site] <= cutoff)]
        return sorted(due, key=lambda site: (site in last, last.get(site)))

    def _plan(self, states: list[NodeState], busy: set[str], report: TickReport) -> None:
        up = [s for s in states if s.up]
        for site in self.due_sites(busy):
            while True:
                free = [s for s in up if s.busy < self.config.max_jobs]
                if not free:
                    return  # every node full (or down): the next tick tries again
                node = min(free, key=lambda s: s.busy)
                try:
                    job = self._schedule(node.node, site)
                except NodeError as exc:
                    logger.warning("could not schedule %s: %s", site, exc)
                    up.remove(node)
                    continue
                node.jobs.setdefault("pending", set()).add(job)
                self.archive.add_cluster_job(site, node.node.name, job)
                report.scheduled.append((site, node.node.name, job))
                logger.info("site %s scheduled on %s (job %s)", site, node.node.name, job)
                break

    def _schedule(self, node: Node, site: str) -> str:
        config = self.config
        args = {"site": site, "recheck": config.recheck}
        if config.base_urls.get(site):
            args["base_url"] = config.base_urls[site]
        settings = {"NEWSMON_DB": self.node_db_url, "NEWSMON_TRIGGER": "scheduled",
                    "NEWSMON_CLUSTER_NODE": node.name, **config.settings}
        return ScrapydClient(node, config.timeout).schedule(config.project, config.spider,
                                                            args, settings)


def run_planner(db_url: str, config: ClusterConfig | None = None,
                stop: threading.Event | None = None) -> int:
    """Tick every [cluster].interval seconds until `stop` is set (or SIGTERM/SIGINT)."""
    from storage import Archive

    config = config or load_cluster()
    stop = stop or threading.Event()
    with Archive.open(db_url) as archive:
        planner = Planner(archive, config, config.db or db_url)
        logger.info("planner %s: %d nodes, %d sites, every %gs, tick %gs", planner.name,
                    len(config.nodes), len(config.sites), config.every, config.interval)
        try:
            while not stop.is_set():
                try:
                    report = planner.tick()
                except Exception:  # noqa: BLE001 - the daemon outlives a bad tick
                    logger.exception("planner tick failed")
                    planner.close()  # a standby may plan meanwhile; take the lock again later
                else:
                    _log(report)
                stop.wait(config.interval)
        finally:
            planner.close()
    return 0


def _log(report: TickReport) -> None:
    if report.down:
        logger.warning("nodes not answering: %s", ", ".join(report.down))
    for site, job in report.done:
        logger.info("site %s: job %s done", site, job)


def planner_daemon(options: Any) -> int | None:
    """The scheduler daemon's hook: with Scrapyd nodes in [cluster], plan on them (until a
    signal) and return the exit code; None when no cluster is configured."""
    import signal

    config = load_cluster()
    if not config.enabled:
        return None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return run_planner(options.db_url, config, stop)
