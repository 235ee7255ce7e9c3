"""Delivering the outbox to real receivers on 127.0.0.1: the native webhook (HMAC checked),
Apprise json:// and mailto:// (aiosmtpd), retries with backoff, failure after the limit,
nothing delivered twice, bootstrap and filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from newsmon.notify import sender
from newsmon.notify.subscriptions import parse_subscriptions
from storage import Archive
from storage.models import OutboxRow
from storage.outbox import outbox_rows
from storage.types import utcnow
from tests.notify.receivers import Smtp, Webhook
from tests.notify.test_events import RECORD, record

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def archive(sqlite_url):
    arch = Archive.open(sqlite_url)
    yield arch
    arch.close()


def subs(*tables, env=None):
    found, errors = parse_subscriptions(list(tables), env or {})
    assert errors == []
    return found


def two_crawls(archive, second):
    """A first crawl (the bootstrap) and a second fetch of the article as `second`."""
    run = archive.start_run("rp")
    archive.record_fetch(run, "rp", "100", RECORD["url"], record(), b"<html>1</html>")
    archive.finish_run(run, "completed")
    run = archive.start_run("rp")
    archive.record_fetch(run, "rp", "100", RECORD["url"], second, b"<html>2</html>")
    archive.record_fetch(run, "rp", "200", RECORD["url"].replace("100", "200"),
                         record(article_id="200", title="Drugi tekst"), b"<html>3</html>")
    archive.finish_run(run, "completed")


@pytest.fixture
def signed_webhook():
    hook = Webhook(secret="s3cret")
    yield hook
    hook.close()


def test_webhook_gets_each_event_once_signed(archive, signed_webhook):
    webhook = signed_webhook
    hook = subs({"name": "hook", "url": webhook.url + "/in", "secret": "${SECRET}"},
                env={"SECRET": "s3cret"})
    sender.send_pending(archive.engine, hook)  # the subscription is seen before the crawls
    two_crawls(archive, record(title="Rozmowy zerwane"))
    report = sender.send_pending(archive.engine, hook, public_url="https://news.example/nm")
    assert (report.delivered, report.failed) == (2, 0) and webhook.bad_signatures == 0
    by_type = {r["json"]["type"]: r for r in webhook.received}
    assert sorted(by_type) == ["new_article", "title_changed"]  # no bootstrap new_article
    title = by_type["title_changed"]
    assert title["json"]["change"] == {"old": "Rozmowy w Genewie", "new": "Rozmowy zerwane"}
    assert title["json"]["article"]["site_id"] == "100"
    assert title["json"]["version"] == 2 and title["json"]["previous_version"] == 1
    assert title["headers"]["X-Newsmon-Event"] == title["json"]["id"]
    assert title["json"]["diff_url"].startswith("https://news.example/nm/articles/")
    # Nothing twice: a second sender pass delivers nothing.
    assert sender.send_pending(archive.engine, hook).delivered == 0
    assert len(webhook.received) == 2


def test_bootstrap_true_announces_the_first_crawl(archive, webhook):
    hook = subs({"name": "all", "url": webhook.url, "bootstrap": True, "events": ["new_article"]})
    sender.send_pending(archive.engine, hook)
    two_crawls(archive, record(title="Rozmowy zerwane"))
    sender.send_pending(archive.engine, hook)
    assert sorted(r["json"]["article"]["site_id"] for r in webhook.received) == ["100", "200"]


def test_filters_narrow_what_is_queued(archive, webhook):
    hooks = subs({"name": "titles", "url": webhook.url + "/titles", "events": ["title_changed"]},
                 {"name": "kowalski", "url": webhook.url + "/kowalski",
                  "authors": ["jan kowalski"]},
                 {"name": "other-section", "url": webhook.url + "/sec", "sections": ["Świat"]},
                 {"name": "query", "url": webhook.url + "/q", "query": "zerwane -Moskwa"},
                 {"name": "big-edits", "url": webhook.url + "/big", "min_body_change": 0.5,
                  "events": ["body_changed"]})
    sender.send_pending(archive.engine, hooks)
    two_crawls(archive, record(title="Rozmowy zerwane", body=RECORD["body"] + " Dopisek."))
    sender.send_pending(archive.engine, hooks)
    got = sorted((r["path"], r["json"]["type"]) for r in webhook.received)
    assert got == [("/kowalski", "body_changed"), ("/kowalski", "new_article"),
                   ("/kowalski", "title_changed"), ("/q", "body_changed"),
                   ("/q", "title_changed"), ("/titles", "title_changed")]


def test_receiver_down_then_up_delivers_once(archive, webhook):
    hook = subs({"name": "hook", "url": webhook.url, "events": ["title_changed"]})
    sender.send_pending(archive.engine, hook)
    two_crawls(archive, record(title="Rozmowy zerwane"))
    webhook.fail_with, webhook.retry_after = 429, "120"
    report = sender.send_pending(archive.engine, hook)
    assert (report.delivered, report.retrying) == (0, 1) and "HTTP 429" in report.errors[0]
    [row] = rows_of(archive)
    assert row["status"] == "pending" and row["attempts"] == 1
    webhook.fail_with = None
    assert sender.send_pending(archive.engine, hook).delivered == 0  # backoff not over yet
    _make_due(archive)
    assert sender.send_pending(archive.engine, hook).delivered == 1
    assert sender.send_pending(archive.engine, hook).delivered == 0
    assert len(webhook.received) == 1


def test_gives_up_after_the_attempt_limit(archive, webhook, monkeypatch):
    monkeypatch.setattr(sender, "MAX_ATTEMPTS", 2)
    hook = subs({"name": "hook", "url": webhook.url, "events": ["title_changed"]})
    sender.send_pending(archive.engine, hook)
    two_crawls(archive, record(title="Rozmowy zerwane"))
    webhook.fail_with = 500
    sender.send_pending(archive.engine, hook)
    _make_due(archive)
    assert sender.send_pending(archive.engine, hook).failed == 1
    [row] = rows_of(archive)
    assert row["status"] == "failed" and row["last_error"].startswith("HTTP 500")


def test_a_dead_receiver_delays_only_its_own_rows(archive, webhook):
    hooks = subs({"name": "dead", "url": "http://127.0.0.1:9/", "timeout": 2},
                 {"name": "alive", "url": webhook.url})
    sender.send_pending(archive.engine, hooks)
    two_crawls(archive, record(title="Rozmowy zerwane"))
    report = sender.send_pending(archive.engine, hooks)
    assert report.delivered == 2 and report.retrying == 1
    assert len(webhook.received) == 2


def test_apprise_json_and_mailto(archive, webhook):
    smtp = Smtp()
    try:
        port = webhook.url.rsplit(":", 1)[1]
        hooks = subs({"name": "json", "url": f"json://127.0.0.1:{port}/apprise",
                      "events": ["title_changed"]},
                     {"name": "mail", "events": ["title_changed"],
                      "url": f"mailto://127.0.0.1:{smtp.port}?from=newsmon@example.com"
                             "&to=desk@example.com"})
        sender.send_pending(archive.engine, hooks)
        two_crawls(archive, record(title="Rozmowy <b>zerwane</b>"))
        report = sender.send_pending(archive.engine, hooks, public_url="https://n.example")
        assert report.delivered == 2, report.errors
    finally:
        smtp.close()
    [posted] = webhook.received  # Apprise's JSON: {"title", "message", ...}
    assert posted["json"]["title"] == "rp.pl · headline changed · Rozmowy <b>zerwane</b>"
    assert "Rozmowy" in posted["json"]["message"]
    [mail] = smtp.messages
    assert mail["Subject"] == "rp.pl · headline changed · Rozmowy <b>zerwane</b>"
    html = mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;zerwane&lt;/b&gt;" in html and "<b>" not in html
    assert 'style="' in html and "<style" not in html and "<del" not in html


def rows_of(archive):
    with Session(archive.engine) as s:
        return outbox_rows(s)


def _make_due(archive):
    with Session(archive.engine) as s, s.begin():
        # The backoff has passed (rows due as of a day ago).
        s.execute(update(OutboxRow).values(next_attempt_at=utcnow() - timedelta(days=1)))
