"""Digest mode: a subscription's pending events go out as ONE message at the first cron time
after the oldest of them: by the daemon's digest job, or by any sender after that time;
before it, crawls and `notify send` leave them pending unless `--digest NAME` forces one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from newsmon.notify import sender
from newsmon.notify.subscriptions import parse_subscriptions
from storage import Archive
from storage.outbox import outbox_rows
from storage.types import utcnow
from tests.crawl.helpers import REPO, newsmon
from tests.notify.receivers import Smtp, Webhook
from tests.notify.test_events import RECORD, record
from tests.schedule.test_schedule import wait_until

pytestmark = pytest.mark.slow

URL_200 = RECORD["url"].replace("100", "200")


def two_events(archive, at):
    """A first crawl an hour before `at` (the bootstrap, announced to nobody), then one at
    `at`: article 100's headline edited and article 200 new, two events."""
    first = at - timedelta(hours=1)
    run = archive.start_run("rp", started_at=first)
    archive.record_fetch(run, "rp", "100", RECORD["url"], record(), b"<html>1</html>",
                         fetched_at=first)
    archive.finish_run(run, "completed", finished_at=first + timedelta(minutes=1))
    run = archive.start_run("rp", started_at=at)
    archive.record_fetch(run, "rp", "100", RECORD["url"], record(title="Rozmowy zerwane"),
                         b"<html>2</html>", fetched_at=at)
    archive.record_fetch(run, "rp", "200", URL_200, record(article_id="200", title="Drugi tekst"),
                         b"<html>3</html>", fetched_at=at)
    archive.finish_run(run, "completed", finished_at=at + timedelta(minutes=1))


def assert_one_digest_of_two(received, name):
    [message] = received
    document = message["json"]
    assert document["schema"] == "newsmon.digest/1" and document["count"] == 2
    assert document["id"].startswith(f"digest:{name}:")
    assert message["headers"]["X-Newsmon-Event"] == document["id"]
    events = {e["type"]: e for e in document["events"]}
    assert sorted(events) == ["new_article", "title_changed"]
    assert events["title_changed"]["change"] == {"old": "Rozmowy w Genewie",
                                                 "new": "Rozmowy zerwane"}
    assert events["new_article"]["article"]["site_id"] == "200"


def config(tmp_path, url, cron):
    (tmp_path / "newsmon.toml").write_text(
        f'[[notify]]\nname = "evening"\nurl = "{url}/evening"\nsecret = "k"\n'
        f'mode = "digest"\ncron = "{cron}"\n'
        f'[[notify]]\nname = "now"\nurl = "{url}/now"\nsecret = "k"\n')
    return {"NEWSMON_CONFIG_DIR": str(tmp_path)}


def test_notify_send_waits_for_the_digest_time_unless_forced(sqlite_url, tmp_path):
    receiver = Webhook(secret="k")
    env = config(tmp_path, receiver.url, "0 18 * * *")
    try:
        assert newsmon("notify", "send", "--db", sqlite_url, env=env).returncode == 0
        with Archive.open(sqlite_url) as archive:
            two_events(archive, utcnow())
        sent = newsmon("notify", "send", "--db", sqlite_url, env=env)
        assert sent.returncode == 0, sent.stderr
        # The immediate subscription got both; the digest's time has not come.
        assert sorted(r["path"] for r in receiver.received) == ["/now", "/now"]
        listed = json.loads(newsmon("notify", "list", "--db", sqlite_url, "--json",
                                    env=env).stdout)
        assert {s["name"]: (s["mode"], s["pending"]) for s in listed} == {
            "evening": ("digest", 2), "now": ("immediate", 0)}
        receiver.received.clear()

        forced = newsmon("notify", "send", "--db", sqlite_url, "--digest", "evening", env=env)
        assert forced.returncode == 0, forced.stderr
        assert "2 delivered (1 digest)" in forced.stdout
        assert_one_digest_of_two(receiver.received, "evening")
        assert receiver.bad_signatures == 0
        again = newsmon("notify", "send", "--db", sqlite_url, "--digest", "evening", env=env)
        assert again.returncode == 0 and len(receiver.received) == 1

        for name in ("now", "nosuch"):
            refused = newsmon("notify", "send", "--db", sqlite_url, "--digest", name, env=env)
            assert refused.returncode == 2
            assert f"no usable digest subscription named {name!r}" in refused.stderr
    finally:
        receiver.close()


def test_a_digest_is_due_at_the_first_cron_time_after_its_oldest_event(sqlite_url):
    hook = Webhook()
    try:
        [digest], errors = parse_subscriptions([{
            "name": "hourly", "url": hook.url, "mode": "digest", "cron": "0 * * * *"}], {})
        assert errors == []
        with Archive.open(sqlite_url) as archive:
            sender.send_pending(archive.engine, [digest])
            now = utcnow()
            two_events(archive, now)
            assert sender.send_pending(archive.engine, [digest]).delivered == 0
            assert hook.received == []
            later = now + timedelta(hours=1, minutes=1)  # an hourly cron time has passed
            assert sender.digest_due(archive.engine, digest, later)
            report = sender.send_pending(archive.engine, [digest], now=later)
            assert (report.delivered, report.digests) == (2, 1)
            with Session(archive.engine) as s:
                assert {r["status"] for r in outbox_rows(s)} == {"delivered"}
            assert not sender.digest_due(archive.engine, digest, later)
    finally:
        hook.close()
    assert_one_digest_of_two(hook.received, "hourly")


def test_apprise_digests_are_one_message_listing_the_changes(sqlite_url):
    hook, smtp = Webhook(), Smtp()
    try:
        port = hook.url.rsplit(":", 1)[1]
        subs, errors = parse_subscriptions([
            {"name": "json", "url": f"json://127.0.0.1:{port}/apprise", "mode": "digest",
             "cron": "0 8 * * *"},
            {"name": "mail", "mode": "digest", "cron": "0 8 * * *",
             "url": f"mailto://127.0.0.1:{smtp.port}?from=newsmon@example.com"
                    "&to=desk@example.com"}], {})
        assert errors == []
        with Archive.open(sqlite_url) as archive:
            sender.send_pending(archive.engine, subs)
            two_events(archive, utcnow())
            report = sender.send_pending(archive.engine, subs, force_digests=["json", "mail"],
                                         public_url="https://n.example")
        assert (report.delivered, report.digests) == (4, 2), report.errors
    finally:
        hook.close()
        smtp.close()
    [posted] = hook.received
    assert posted["json"]["title"] == "rp.pl · digest · 2 changes"
    message = posted["json"]["message"]
    assert "headline changed · Rozmowy zerwane" in message
    assert "new article · Drugi tekst" in message and "https://n.example/articles/" in message
    [mail] = smtp.messages
    assert mail["Subject"] == "rp.pl · digest · 2 changes"
    html = mail.get_body(("html",)).get_content()
    assert "headline changed · Rozmowy zerwane" in html and "new article · Drugi tekst" in html
    assert 'style="' in html and "<style" not in html


def test_the_daemon_sends_a_due_digest_as_one_message(sqlite_url, tmp_path):
    receiver = Webhook(secret="k")
    env = config(tmp_path, receiver.url, "0 * * * *")
    try:
        assert newsmon("notify", "send", "--db", sqlite_url, env=env).returncode == 0
        with Archive.open(sqlite_url) as archive:  # two hours ago: an hourly time has passed
            two_events(archive, utcnow() - timedelta(hours=2))
        daemon = subprocess.Popen(
            [sys.executable, "-m", "newsmon", "schedule", "--db", sqlite_url, "--every", "3600",
             "--jitter", "0"], cwd=REPO, env={**os.environ, **env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_until(lambda: any(r["path"] == "/evening" for r in receiver.received),
                              timeout=120)
        finally:
            daemon.send_signal(signal.SIGTERM)
            _out, err = daemon.communicate(timeout=60)
        assert daemon.returncode == 0, err
        assert "digest evening:" in err
    finally:
        receiver.close()
    assert_one_digest_of_two([r for r in receiver.received if r["path"] == "/evening"],
                             "evening")
    # The daemon sends digests only: the immediate subscription is the crawls' and
    # `notify send`'s business.
    assert [r for r in receiver.received if r["path"] == "/now"] == []
    with Archive.open(sqlite_url) as archive, Session(archive.engine) as s:
        rows = outbox_rows(s, "evening")
    assert [r["status"] for r in rows] == ["delivered", "delivered"]
