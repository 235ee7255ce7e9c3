"""Senders under faults, as real `newsmon notify send` processes: one killed with SIGKILL in
the middle of a delivery (nothing lost, the one duplicate carries the same event id), two at
once (each row delivered exactly once), events committed out of id order on PostgreSQL (none
passed over); and `newsmon notify test NAME`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from newsmon.notify import sender
from newsmon.notify.subscriptions import parse_subscriptions
from storage import Archive, fetches
from storage.models import OutboxRow
from storage.outbox import ensure_cursors, outbox_rows
from storage.types import utcnow
from tests.crawl.helpers import REPO, newsmon
from tests.notify.receivers import Webhook
from tests.notify.test_events import RECORD, record
from tests.schedule.test_schedule import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook():
    hook = Webhook(secret="k")
    yield hook
    hook.close()


def configure(tmp_path, url, names=("hook",)):
    """Subscriptions for every new_article, the first crawl's included (bootstrap)."""
    (tmp_path / "newsmon.toml").write_text("".join(
        f'[[notify]]\nname = "{name}"\nurl = "{url}/{name}"\nsecret = "k"\n'
        'events = ["new_article"]\nbootstrap = true\ntimeout = 120\n' for name in names))
    return {**os.environ, "NEWSMON_CONFIG_DIR": str(tmp_path)}


def new_articles(db_url, n, names=("hook",)):
    """`n` new articles, after the subscriptions' cursors: n events for each."""
    with Archive.open(db_url) as archive:
        with Session(archive.engine) as s, s.begin():
            ensure_cursors(s, names)
        run = archive.start_run("rp")
        for i in range(n):
            aid = str(1000 + i)
            archive.record_fetch(run, "rp", aid, RECORD["url"].replace("100", aid),
                                 record(article_id=aid, title=f"Tekst {i}"), b"<html></html>")
        archive.finish_run(run, "completed")


def sender_process(db_url, env):
    return subprocess.Popen([sys.executable, "-m", "newsmon", "notify", "send", "--db", db_url],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def rows(db_url):
    with Archive.open(db_url) as archive, Session(archive.engine) as s:
        return outbox_rows(s)


def test_sigkill_mid_delivery_loses_nothing_and_resends_only_that_event(db_url, tmp_path,
                                                                       webhook):
    env = configure(tmp_path, webhook.url)
    new_articles(db_url, 3)
    webhook.stall_at = 1  # the second event reaches the receiver; its answer never comes
    first = sender_process(db_url, env)
    assert webhook.stalled.wait(timeout=120), first.communicate()
    first.send_signal(signal.SIGKILL)
    first.wait()
    webhook.release.set()
    assert [r["status"] for r in rows(db_url)] == ["delivered", "pending", "pending"]

    # Another sender at once: the killed one's claim still holds (its lease), nothing twice.
    second = newsmon("notify", "send", "--db", db_url, env=env)
    assert second.returncode == 0, second.stderr
    assert len(webhook.received) == 2
    with Archive.open(db_url) as archive, Session(archive.engine) as s, s.begin():
        # The lease has passed (rows claimed as of a day ago).
        s.execute(update(OutboxRow).where(OutboxRow.status == "pending")
                  .values(next_attempt_at=utcnow() - timedelta(days=1)))
    third = newsmon("notify", "send", "--db", db_url, env=env)
    assert third.returncode == 0, third.stderr
    assert "2 delivered" in third.stdout

    assert [r["status"] for r in rows(db_url)] == ["delivered"] * 3
    assert webhook.bad_signatures == 0
    for message in webhook.received:
        assert message["headers"]["X-Newsmon-Event"] == message["json"]["id"]
    counts = Counter(message["json"]["id"] for message in webhook.received)
    in_flight = webhook.received[1]["json"]["id"]
    assert len(counts) == 3 and set(counts.values()) == {1, 2}
    assert [key for key, n in counts.items() if n > 1] == [in_flight]


def test_two_senders_at_once_deliver_each_row_exactly_once(db_url, tmp_path, webhook):
    names = ("a", "b")
    env = configure(tmp_path, webhook.url, names)
    new_articles(db_url, 30, names)  # more than one claim batch per subscription
    webhook.together = threading.Barrier(2)
    senders = [sender_process(db_url, env) for _ in range(2)]
    for process in senders:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert not webhook.together.broken  # both senders were delivering at the same time
    counts = Counter((m["path"], m["json"]["id"]) for m in webhook.received)
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert {r["status"] for r in rows(db_url)} == {"delivered"} and len(rows(db_url)) == 60


def test_events_committed_out_of_id_order_are_not_passed_over(pg_url, webhook):
    """PostgreSQL hands out ids at INSERT: a transaction holding id N can commit after one
    holding N+1. A sender running between the two commits must not move past N."""
    [sub], _ = parse_subscriptions([{"name": "hook", "url": webhook.url, "secret": "k",
                                     "events": ["new_article"], "bootstrap": True}], {})
    with Archive.open(pg_url) as archive:
        sender.send_pending(archive.engine, [sub])
        archive.finish_run(archive.start_run("rp"), "completed")  # the site row exists
        slow = Session(archive.engine)
        slow.begin()
        fetches.record_fetch(slow, None, "rp", "1", RECORD["url"].replace("100", "1"),
                             record(article_id="1"), b"1")
        slow.flush()  # its event has the lower id, not committed
        archive.record_fetch(None, "rp", "2", RECORD["url"].replace("100", "2"),
                             record(article_id="2"), b"2")  # committed
        result = {}
        sending = threading.Thread(target=lambda: result.update(
            report=sender.send_pending(archive.engine, [sub])))
        sending.start()
        # The sender waits for the open transaction (its advisory lock request is queued).
        assert wait_until(lambda: _waiting_on_advisory_lock(archive), timeout=120)
        slow.commit()
        slow.close()
        sending.join(timeout=120)
        assert result["report"].delivered == 2
    assert sorted(m["json"]["article"]["site_id"] for m in webhook.received) == ["1", "2"]


def _waiting_on_advisory_lock(archive) -> bool:
    with archive.engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")))


def test_notify_test_sends_a_sample_through_the_real_channel(tmp_path, webhook):
    env = configure(tmp_path, webhook.url)
    proc = newsmon("notify", "test", "hook", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "hook: sample message delivered" in proc.stdout
    [sample] = webhook.received
    assert sample["path"] == "/hook" and webhook.bad_signatures == 0
    assert sample["json"]["type"] == "title_changed"
    assert sample["headers"]["X-Newsmon-Event"] == sample["json"]["id"]

    unknown = newsmon("notify", "test", "nosuch", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines()[-1].endswith(
        "no usable subscription named 'nosuch'")
    webhook.fail_with = 500
    failing = newsmon("notify", "test", "hook", env=env)
    assert failing.returncode == 1 and "hook: HTTP 500" in failing.stderr
    assert len(webhook.received) == 1
