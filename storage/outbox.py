"""Change events and the notification outbox in the archive: the SQL side of alerts. Sending
(HTTP, Apprise, messages) is newsmon/notify's; subscriptions come from the configuration and
reach storage only as names and a match function, so no secret is ever stored.

The life of a delivery:

1. `record_version_events` writes a version's events in the version's own transaction
   (called by storage/versions.py: create_version), so an event exists iff its version does.
2. `enqueue` turns the events a subscription has not seen yet into outbox rows, one per
   matching (event, subscription), and moves the subscription's cursor past them, in one
   transaction (the cursor row is locked: FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on
   SQLite), so an event is neither skipped nor queued twice. A subscription's cursor is created
   at the newest event when it is first seen (`ensure_cursors`): history is not delivered.
3. `claim` hands due rows to one sender (FOR UPDATE SKIP LOCKED on PostgreSQL, so two
   senders never get the same row), counting the attempt and pushing `next_attempt_at` past a
   lease: a sender killed mid-delivery leaves its rows to be claimed again after the lease
   (a duplicate then carries the same event key), never lost.
4. `mark_delivered` / `mark_retry` / `mark_failed` record what came of it (`release`
   hands back a claimed row that was not tried).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from storage import events as event_types
from storage.models import (
    Article,
    ArticleVersion,
    ChangeEvent,
    CrawlRun,
    NotifyCursor,
    OutboxRow,
    Site,
)
from storage.rows import insert_ignore
from storage.types import utcnow

ENQUEUE_BATCH = 500


def record_version_events(s: Session, article: Article, version: int,
                          previous: dict[str, Any] | None, new: dict[str, Any],
                          summary: dict[str, Any], occurred_at: datetime) -> int:
    """Store the content events of `article`'s new `version` (events.derive_events over the
    normalised records and the change summary the version is stored with); their number."""
    derived = event_types.derive_events(previous, new, summary)
    for event in derived:
        s.add(ChangeEvent(key=event_types.event_key(event.type, article=article.id,
                                                    version=version),
                          type=event.type, article_id=article.id, version=version,
                          occurred_at=occurred_at, payload=event.payload))
    return len(derived)


# -- subscriptions' cursors and the outbox --------------------------------------------------


def ensure_cursors(s: Session, names: Iterable[str]) -> None:
    """Create the cursor of every subscription not seen before, at the newest event."""
    newest = s.scalar(select(func.max(ChangeEvent.id))) or 0
    for name in names:
        insert_ignore(s, NotifyCursor, {"subscription": name, "last_event_id": newest,
                                        "created_at": utcnow()}, ["subscription"])


def _bootstrap_window(s: Session) -> tuple[datetime, datetime | None] | None:
    """When the archive's first crawl that found articles ran (its new_article events are the
    bootstrap, announced only to subscriptions that ask for it)."""
    first = s.execute(select(CrawlRun.started_at, CrawlRun.finished_at)
                      .where(CrawlRun.new_articles > 0).order_by(CrawlRun.id).limit(1)).first()
    return (first.started_at, first.finished_at) if first else None


def _is_bootstrap(event: dict[str, Any], window) -> bool:
    if event["type"] != "new_article" or window is None:
        return False
    start, end = window
    return event["occurred_at"] >= start and (end is None or event["occurred_at"] <= end)


def _event_rows(s: Session, where, limit: int | None = None) -> list[dict[str, Any]]:
    """Events with what filters and messages need of their article and version."""
    stmt = (
        select(ChangeEvent, Article.article_id.label("site_article_id"),
               Article.url.label("article_url"), Site.name.label("site"),
               ArticleVersion.title, ArticleVersion.lead, ArticleVersion.body,
               ArticleVersion.section, ArticleVersion.authors, ArticleVersion.tags)
        .outerjoin(Article, Article.id == ChangeEvent.article_id)
        .outerjoin(Site, Site.id == Article.site_id)
        .outerjoin(ArticleVersion, and_(ArticleVersion.article_id == ChangeEvent.article_id,
                                        ArticleVersion.version == ChangeEvent.version))
        .where(where).order_by(ChangeEvent.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    for row in s.execute(stmt):
        event = row.ChangeEvent
        out.append({
            "id": event.id, "key": event.key, "type": event.type,
            "occurred_at": event.occurred_at, "version": event.version,
            "payload": event.payload or {},
            "article": None if event.article_id is None else {
                "id": event.article_id, "site": row.site, "site_id": row.site_article_id,
                "url": row.article_url, "title": row.title, "lead": row.lead,
                "body": row.body, "section": row.section, "authors": row.authors or [],
                "tags": row.tags or [],
            },
        })
    return out


def enqueue(s: Session, name: str, matches: Callable[[dict[str, Any]], bool], *,
            bootstrap: bool = False) -> int:
    """Queue for subscription `name` every event past its cursor that `matches` (and, unless
    `bootstrap`, that is not a new_article of the archive's first crawl); the rows queued."""
    cursor = s.scalars(select(NotifyCursor).where(NotifyCursor.subscription == name)
                       .with_for_update()).first()
    if cursor is None:
        ensure_cursors(s, [name])
        cursor = s.scalars(select(NotifyCursor).where(NotifyCursor.subscription == name)
                           .with_for_update()).one()
    window = None if bootstrap else _bootstrap_window(s)
    queued = 0
    while True:
        batch = _event_rows(s, ChangeEvent.id > cursor.last_event_id, ENQUEUE_BATCH)
        if not batch:
            return queued
        for event in batch:
            if not _is_bootstrap(event, window) and matches(event):
                queued += insert_ignore(
                    s, OutboxRow, {"event_id": event["id"], "subscription": name,
                                   "status": "pending", "attempts": 0,
                                   "next_attempt_at": utcnow()},
                    ["event_id", "subscription"])
        cursor.last_event_id = batch[-1]["id"]
        s.flush()


def claim(s: Session, names: Iterable[str], *, lease: timedelta, limit: int = 50,
          now: datetime | None = None) -> list[dict[str, Any]]:
    """Due pending rows of these subscriptions, each with its event, for this sender alone:
    the attempt is counted and the row is not due again before `lease` has passed."""
    now = now or utcnow()
    rows = s.scalars(
        select(OutboxRow)
        .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now,
               OutboxRow.subscription.in_(list(names)))
        .order_by(OutboxRow.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    events = {e["id"]: e for e in _event_rows(
        s, ChangeEvent.id.in_({row.event_id for row in rows}))}
    claimed = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + lease
        claimed.append({"outbox_id": row.id, "subscription": row.subscription,
                        "attempts": row.attempts, "event": events[row.event_id]})
    return claimed


def mark_delivered(s: Session, outbox_id: int, now: datetime | None = None) -> None:
    s.execute(update(OutboxRow).where(OutboxRow.id == outbox_id)
              .values(status="delivered", delivered_at=now or utcnow(), last_error=None))


def mark_retry(s: Session, outbox_id: int, error: str, next_attempt_at: datetime) -> None:
    s.execute(update(OutboxRow).where(OutboxRow.id == outbox_id)
              .values(last_error=error[:2000], next_attempt_at=next_attempt_at))


def release(s: Session, outbox_id: int) -> None:
    """Hand a claimed row back untried: due at once, the claim's attempt not counted."""
    s.execute(update(OutboxRow).where(OutboxRow.id == outbox_id)
              .values(attempts=OutboxRow.attempts - 1, next_attempt_at=utcnow()))


def mark_failed(s: Session, outbox_id: int, error: str) -> None:
    s.execute(update(OutboxRow).where(OutboxRow.id == outbox_id)
              .values(status="failed", last_error=error[:2000]))


def outbox_counts(s: Session) -> dict[str, dict[str, int]]:
    """subscription -> {status: rows}."""
    counts: dict[str, dict[str, int]] = {}
    for name, status, n in s.execute(select(OutboxRow.subscription, OutboxRow.status,
                                            func.count()).group_by(OutboxRow.subscription,
                                                                   OutboxRow.status)):
        counts.setdefault(name, {})[status] = n
    return counts


def outbox_rows(s: Session, subscription: str | None = None) -> list[dict[str, Any]]:
    """Every outbox row (oldest first) with its event's key and type."""
    stmt = (select(OutboxRow, ChangeEvent.key, ChangeEvent.type)
            .join(ChangeEvent, ChangeEvent.id == OutboxRow.event_id).order_by(OutboxRow.id))
    if subscription is not None:
        stmt = stmt.where(OutboxRow.subscription == subscription)
    return [{"subscription": row.OutboxRow.subscription, "key": row.key, "type": row.type,
             "status": row.OutboxRow.status, "attempts": row.OutboxRow.attempts,
             "last_error": row.OutboxRow.last_error,
             "delivered_at": row.OutboxRow.delivered_at} for row in s.execute(stmt)]


def list_events(s: Session, *, since: datetime | None = None, types: Iterable[str] = (),
                article: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Events, oldest first, with their article; filters as `newsmon events` takes them."""
    where = [ChangeEvent.id > 0]
    if since is not None:
        where.append(ChangeEvent.occurred_at >= since)
    if types:
        where.append(ChangeEvent.type.in_(list(types)))
    if article is not None:
        where.append(ChangeEvent.article_id == article)
    return _event_rows(s, and_(*where), limit)
