"""Migration 0011 back-fills the content events of versions stored before it: an archive at
revision 0010 holding versions is upgraded, its versions get the events a crawl writes today
(same ids, types and payloads), the outbox stays empty and no subscription is sent any."""

from __future__ import annotations

import importlib

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from newsmon.notify import sender
from newsmon.notify.subscriptions import parse_subscriptions
from storage import Archive, current_revision, upgrade
from storage.db import make_engine
from storage.migrate import alembic_config
from storage.outbox import list_events, outbox_rows
from tests.notify.receivers import Webhook
from tests.notify.test_events import RECORD, record

pytestmark = pytest.mark.slow  # crawls, commands or servers in subprocesses

BEFORE = "0010_drop_next_check"
BATCH = importlib.import_module("storage.migrations.versions.0011_change_events").BATCH


def downgrade_to(db_url: str, revision: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), revision)
    finally:
        engine.dispose()


def fill(archive) -> None:
    """Versions of every kind of change, more of them than one back-fill batch, so that an
    article's versions straddle a batch boundary."""
    articles = BATCH // 2 + 5
    for i in range(articles):
        aid = str(1000 + i)
        url = RECORD["url"].replace("100", aid)
        first = record(article_id=aid, title=f"Tekst {i}")
        archive.record_fetch(None, "rp", aid, url, first, b"1")
        second = record(article_id=aid, title=f"Tekst {i}, poprawiony",
                        body=RECORD["body"] + f" Dopisek {i}.", paywalled=i % 3 == 0,
                        paywall_percent=60 if i % 3 == 0 else None,
                        authors=["Anna Nowak"] if i % 5 == 0 else RECORD["authors"])
        archive.record_fetch(None, "rp", aid, url, second, b"2")
        if i % 7 == 0:
            archive.record_fetch(None, "rp", aid, url, {**second, "tags": ["Nowy"]}, b"3")


def count_versions(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM article_versions"))
    finally:
        engine.dispose()


def events(archive) -> list[tuple]:
    with Session(archive.engine) as s:
        return [(e["key"], e["type"], e["version"], e["occurred_at"], e["payload"])
                for e in list_events(s, limit=100_000)]


def test_upgrade_from_0010_backfills_events_and_delivers_none(db_url):
    with Archive.open(db_url) as archive:
        fill(archive)
        written = events(archive)  # what the version-creation path wrote
    versions = count_versions(db_url)
    assert versions > BATCH and len(written) > BATCH
    assert {kind for _, kind, *_ in written} >= {
        "new_article", "title_changed", "body_changed", "authors_changed",
        "paywall_changed", "tags_changed"}

    downgrade_to(db_url, BEFORE)
    assert current_revision(db_url) == BEFORE
    engine = make_engine(db_url)
    try:
        assert "change_events" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert count_versions(db_url) == versions

    upgrade(db_url)
    hook = Webhook()
    try:
        with Archive.open(db_url) as archive:
            assert events(archive) == written
            with Session(archive.engine) as s:
                assert outbox_rows(s) == []
            [sub], _ = parse_subscriptions([{"name": "all", "url": hook.url,
                                             "bootstrap": True}], {})
            report = sender.send_pending(archive.engine, [sub])
            assert (report.queued, report.delivered) == (0, 0)
            # What comes after the upgrade is delivered.
            aid = "1001"
            outcome = archive.record_fetch(
                None, "rp", aid, RECORD["url"].replace("100", aid),
                record(article_id=aid, title="Po aktualizacji",
                       body=RECORD["body"] + " Dopisek 1."), b"4")
            assert outcome.changed_fields == ["title"]
            assert sender.send_pending(archive.engine, [sub]).delivered == 1
    finally:
        hook.close()
    [message] = hook.received
    assert message["json"]["type"] == "title_changed"
    assert message["json"]["change"]["new"] == "Po aktualizacji"
