"""The cluster with real components: two Scrapyd nodes, the PostgreSQL archive, three replica
sites. Deploy, plan over both nodes, lose a node mid-crawl, two planners at once."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import defaultdict

import pytest
from sqlalchemy import text

from newsmon.cli import main as newsmon_main
from newsmon.cluster import load_cluster
from newsmon.cluster.deploy import deploy, status
from newsmon.cluster.planner import Planner
from storage import Archive
from tests.cluster.conftest import REPO, SITES

pytestmark = pytest.mark.slow


def wait_for(condition, what: str, tries: int = 600, pause: float = 0.2):
    # A bound on tries, not a time limit: a slow machine just polls longer.
    for _ in range(tries):
        value = condition()
        if value:
            return value
        time.sleep(pause)
    raise AssertionError(f"never happened: {what}")


def runs_by_site(archive) -> dict[str, list[dict]]:
    with archive.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.name, r.id, r.status, r.started_at, r.finished_at, r.options, r.note "
            "FROM crawl_runs r JOIN sites s ON s.id = r.site_id ORDER BY r.started_at")).all()
    runs = defaultdict(list)
    for row in rows:
        runs[row.name].append(row._asdict())
    return runs


def archived(archive) -> dict[str, dict[str, int]]:
    """site -> article id -> number of versions."""
    with archive.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.name, a.article_id, count(v.id) FROM articles a "
            "JOIN sites s ON s.id = a.site_id JOIN article_versions v ON v.article_id = a.id "
            "GROUP BY s.name, a.article_id")).all()
    found = defaultdict(dict)
    for site, article_id, versions in rows:
        found[site][article_id] = versions
    return found


def settle(planner: Planner, config) -> list:
    """Tick until every site has a completed run and no job is in progress."""
    reports = []

    def finished():
        reports.append(planner.tick())
        done = planner.archive.last_completed_runs(config.sites)
        if set(done) == set(config.sites) and not planner.archive.active_cluster_jobs():
            return True
        time.sleep(config.interval)
        return False

    wait_for(finished, "every site crawled", pause=0)
    return reports


def test_deploy_plan_over_two_nodes_and_lose_one(cluster_env):
    conf, db_url, replicas, nodes = cluster_env
    config = load_cluster()
    result = deploy(config, version="100", directory=REPO)
    assert result.ok, result.nodes
    rows = status(config)
    assert [(r["node"], r["up"], r["version"], r["current"]) for r in rows] == [
        ("a", True, "100", True), ("b", True, "100", True)]

    # s3's articles answer slowly, so that its crawl is under way when its node dies.
    replicas["s3"].faults.add(re.compile(r"/art\d+"), "slow", seconds=0.5)
    with Archive.open(db_url) as archive:
        planner = Planner(archive, config, db_url)
        try:
            first = planner.tick()
            assert first.leader and not first.failed
            placed = {site: node for site, node, _ in first.scheduled}
            assert sorted(placed) == list(SITES)
            assert set(placed.values()) == {"a", "b"}  # fewest jobs first: both nodes used
            victim = next(n for n in nodes if n.name == placed["s3"])
            s3_job = next(j for j in archive.active_cluster_jobs() if j["site"] == "s3")
            wait_for(lambda: (archive.cluster_job_run(s3_job["id"]) or {})
                     .get("pages_fetched", 0) >= 1, "s3's crawl fetched a page")
            victim.kill()
            reports = settle(planner, config)
        finally:
            planner.close()

        failed = [f for r in reports for f in r.failed]
        assert ("s3", victim.name) in {(site, node) for site, node, _ in failed}
        assert all(node == victim.name and "stopped answering" in why
                   for _, node, why in failed)
        # Re-planned on the node that answers.
        replanned = {site: node for r in reports for site, node, _ in r.scheduled}
        assert replanned["s3"] != victim.name

        runs = runs_by_site(archive)
        for site in SITES:
            site_runs = runs[site]
            assert [r["status"] for r in site_runs].count("completed") == 1, site_runs
            # One crawl of a site at a time: the run time ranges do not overlap.
            for before, after in zip(site_runs, site_runs[1:], strict=False):
                assert before["finished_at"] <= after["started_at"], (before, after)
            for run in site_runs:
                assert run["options"]["job"] and run["options"]["node"] in ("a", "b")
        s3_statuses = [(r["status"], r["options"]["node"]) for r in runs["s3"]]
        assert ("failed", victim.name) in s3_statuses

        # Every article of every site archived, each once (no duplicate versions).
        found = archived(archive)
        for site, replica in replicas.items():
            expected = {a.article_id for a in replica.site.live_articles()}
            expected -= set(replica.site.cases["robots_disallowed"])
            assert set(found[site]) == expected, site
            assert set(found[site].values()) == {1}, found[site]
    assert newsmon_main(["db", "check", "--db", db_url]) == 0


def test_one_planner_at_a_time(cluster_env, tmp_path):
    conf, db_url, replicas, nodes = cluster_env
    config = load_cluster()
    assert deploy(config, version="200", directory=REPO).ok
    for replica in replicas.values():  # crawls long enough to watch both planners
        replica.faults.add(re.compile(r"/art\d+"), "slow", seconds=0.3)
    log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115
    daemon = subprocess.Popen(
        [sys.executable, "-m", "newsmon", "schedule", "--every", "3600", "--db", db_url],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        with Archive.open(db_url) as archive:
            standby = Planner(archive, config, db_url)
            try:
                wait_for(lambda: len(archive.cluster_jobs()) == len(SITES),
                         "the daemon scheduled every site")
                # The daemon holds the planner lock: the standby plans nothing.
                for _ in range(3):
                    report = standby.tick()
                    assert not report.leader and not report.scheduled
                daemon.kill()
                daemon.wait()
                # A standby takes over once the server has ended the killed daemon's session
                # (it notices the closed socket a moment later), then settles its jobs.
                wait_for(lambda: standby.tick().leader, "the standby took the planner lock",
                         tries=100)
                settle(standby, config)
            finally:
                standby.close()
            jobs = archive.cluster_jobs()
            assert len(jobs) == len(SITES)  # nothing planned twice
            assert {j["state"] for j in jobs} == {"done"}
            runs = runs_by_site(archive)
            assert all([r["status"] for r in runs[s]] == ["completed"] for s in SITES)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        print((tmp_path / "daemon.log").read_text()[-3000:])
