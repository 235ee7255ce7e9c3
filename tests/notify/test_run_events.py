"""Operational events: `run_failed`, `run_degraded` and `suspects_held`, written when a run is
closed with the status the crawl computed (crawler/run_status.py), and delivered only to the
subscriptions that list them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy.orm import Session

from newsmon.notify import sender
from newsmon.notify.subscriptions import parse_subscriptions
from storage import Archive
from storage.outbox import list_events
from tests.crawl.helpers import FAST, newsmon
from tests.notify.receivers import Webhook

OPERATIONAL = ["run_failed", "run_degraded", "suspects_held"]


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


def run_events(archive):
    with Session(archive.engine) as s:
        return [(e["type"], e["payload"]["run_id"]) for e in list_events(s, types=OPERATIONAL)]


def test_each_final_status_makes_its_events_once(db_url, webhook):
    with Archive.open(db_url) as archive:
        subs, errors = parse_subscriptions([
            {"name": "ops", "url": webhook.url + "/ops", "events": OPERATIONAL},
            {"name": "content", "url": webhook.url + "/content"}], {})
        assert errors == []
        sender.send_pending(archive.engine, subs)  # cursors before the runs

        failed = archive.start_run("rp")
        archive.finish_run(failed, "failed", note="no article could be reached")
        archive.finish_run(failed, "failed", note="closed again")  # no second event
        degraded = archive.start_run("rp")
        archive.bump_run(degraded, pages_fetched=10, suspect=2)
        archive.finish_run(degraded, "completed", coverage={"title": 0.4, "body": 1.0},
                           degraded=True)
        timed_out = archive.start_run("rp")
        archive.finish_run(timed_out, "timed_out", note="stopped after 3600s")
        quiet = [archive.start_run("rp") for _ in range(3)]
        for run, status in zip(quiet, ("completed", "interrupted", "skipped"), strict=True):
            archive.finish_run(run, status)
        # A run whose process is gone, closed by the next crawl or the daemon.
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        orphan = archive.start_run("rp", pid=dead.pid)
        assert archive.mark_interrupted_runs(status="failed") == [orphan]

        assert sorted(run_events(archive)) == sorted([
            ("run_failed", failed), ("run_degraded", degraded), ("suspects_held", degraded),
            ("run_failed", timed_out), ("run_failed", orphan)])
        report = sender.send_pending(archive.engine, subs)
    assert report.delivered == 5 and report.failed == 0
    assert {r["path"] for r in webhook.received} == {"/ops"}  # not a content event
    by_type = {(r["json"]["type"], r["json"]["change"]["run_id"]): r["json"]
               for r in webhook.received}
    first = by_type[("run_failed", failed)]
    assert first["id"] == f"run:{failed}:run_failed" and first["article"] is None
    assert first["change"]["note"] == "no article could be reached"
    assert first["change"]["site"] == "rp"
    assert by_type[("run_degraded", degraded)]["change"]["coverage"] == {"title": 0.4,
                                                                         "body": 1.0}
    assert by_type[("suspects_held", degraded)]["change"]["suspect"] == 2


@pytest.mark.slow
def test_crawls_of_the_replica_deliver_their_operational_events(replica, sqlite_url, tmp_path,
                                                                webhook):
    (tmp_path / "newsmon.toml").write_text(
        f'[[notify]]\nname = "ops"\nurl = "{webhook.url}/ops"\n'
        f'events = {json.dumps(OPERATIONAL)}\n')
    env = {"NEWSMON_CONFIG_DIR": str(tmp_path)}

    def crawl(base_url, *extra):
        proc = newsmon("crawl", "--base-url", base_url, "--db", sqlite_url, "--json", *FAST,
                       *extra, env=env, timeout=180)
        got = sorted((r["json"]["type"], r["json"]["change"]["status"])
                     for r in webhook.received)
        webhook.received.clear()
        return proc, got

    proc, got = crawl(replica.base_url)
    assert proc.returncode == 0, proc.stderr
    assert got == []  # a healthy run says nothing
    aid = replica.site.case("seed").article_id
    replica.site.edit(aid, blocks=list(replica.site.article(aid).blocks[:1]))  # body cut
    proc, got = crawl(replica.base_url, "--recheck", "all",
                      "-s", 'NEWSMON_MIN_COVERAGE={"title": 1.01}')
    assert proc.returncode == 0, proc.stderr
    assert got == [("run_degraded", "completed"), ("suspects_held", "completed")]
    proc, got = crawl("http://127.0.0.1:9")  # nothing listens there
    assert proc.returncode == 1, proc.stderr
    assert got == [("run_failed", "failed")]
