"""Change events and the notification outbox in the archive: the SQL side of alerts. Sending
(HTTP, Apprise, messages) is newsmon/notify's; subscriptions come from the configuration and
reach storage only as names and a match function, so no secret is ever stored.

The life of a delivery:

1. `record_version_events` writes a version's events in the version's own transaction
   (called by storage/versions.py: create_version), so an event exists iff its version does;
   `record_status_event` (removed/restored) is written with the fetch that changed the
   article's status, `record_run_events` with the run's final status.
2. `enqueue` turns the events a subscription has not seen yet into outbox rows, one per
   matching (event, subscription), and moves the subscription's cursor past them, in one
   transaction (the cursor row is locked: FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on
   SQLite), so an event is neither skipped nor queued twice. A subscription's cursor is created
   at the newest event when it is first seen (`ensure_cursors`): history is not delivered.
   On PostgreSQL ids are handed out at INSERT, so concurrent transactions can commit them out
   of order; the cursor only moves up to a horizon below which every event is committed
   (`_committed_horizon`), or an event still in flight would be passed over for ever.
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

from sqlalchemy import and_, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
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
from storage.rows import core_execute, insert_ignore, transaction_memo
from storage.types import utcnow

ENQUEUE_BATCH = 500
# The run counters an operational event carries.
RUN_SUMMARY = ("pages_fetched", "new_articles", "new_versions", "unchanged", "not_modified",
               "gone", "errors", "parse_failures", "suspect")


_INSERT_EVENTS = insert(ChangeEvent.__table__)

# Every transaction that writes events holds this PostgreSQL advisory lock shared; the fence
# in _committed_horizon takes it exclusively for an instant. Any number for our own use.
EVENT_WRITERS_LOCK = 0x6E6D6576  # "nmev"


def _writing_events(s: Session) -> None:
    """Mark this transaction as one that writes events (PostgreSQL; held until it ends)."""
    taken = transaction_memo(s, "event_writers_lock")
    if not taken and s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"),
                  {"key": EVENT_WRITERS_LOCK})
    taken["held"] = True


def _committed_horizon(s: Session) -> int | None:
    """The newest event id below which every event is committed (None: no limit needed).

    PostgreSQL: in a transaction of its own, take the writers' lock exclusively, which waits
    for every transaction writing events to end (and holds new ones back for that instant);
    the newest id then is a horizon no uncommitted event lies below, since ids handed out
    later are larger. SQLite: writers are serialised (BEGIN IMMEDIATE, and so is enqueue), so
    ids become visible in order and no horizon is needed."""
    bind = s.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    with bind.engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_WRITERS_LOCK})
        return conn.scalar(select(func.max(ChangeEvent.id))) or 0


def record_version_events(s: Session, article: Article, version: int,
                          previous: dict[str, Any] | None, new: dict[str, Any],
                          summary: dict[str, Any], occurred_at: datetime) -> int:
    """Store the content events of `article`'s new `version` (events.derive_events over the
    normalised records and the change summary the version is stored with); their number."""
    derived = event_types.derive_events(previous, new, summary)
    if derived:
        _writing_events(s)
        # A Core executemany rather than ORM objects: this runs for every version a crawl
        # makes (see the alerts row of `python -m bench`).
        core_execute(s, _INSERT_EVENTS, [
            {"key": event_types.event_key(event.type, article=article.id, version=version),
             "type": event.type, "article_id": article.id, "version": version,
             "occurred_at": occurred_at, "payload": event.payload} for event in derived])
    return len(derived)


def record_status_event(s: Session, article: Article, old_status: str | None,
                        new_status: str, fetch_event_id: int, occurred_at: datetime,
                        payload: dict[str, Any]) -> str | None:
    """`removed` / `restored` when the fetch `fetch_event_id` moved `article` from
    `old_status` to `new_status` (events.status_event), in that fetch's transaction. The
    event points at the article's current version, so filters and messages see its last
    known title, section and authors. Returns the event type written, if any."""
    event = event_types.status_event(old_status, new_status, payload)
    if event is None:
        return None
    _writing_events(s)
    s.add(ChangeEvent(key=event_types.event_key(event.type, article=article.id,
                                                fetch_event=fetch_event_id),
                      type=event.type, article_id=article.id,
                      version=article.current_version or None, occurred_at=occurred_at,
                      payload=event.payload))
    return event.type


def record_run_events(s: Session, run: CrawlRun) -> list[str]:
    """The operational events of `run`, just closed (events.run_events): written once per run
    and type, however often the run is closed again (the scheduler may re-close a run that
    outlived its timeout). Returns the types."""
    site = s.scalar(select(Site.name).where(Site.id == run.site_id))
    payload = {"run_id": run.id, "site": site, "status": run.status, "note": run.note,
               "degraded": bool(run.degraded), "coverage": run.coverage or {},
               **{name: getattr(run, name) or 0 for name in RUN_SUMMARY}}
    derived = event_types.run_events(run.status, bool(run.degraded), run.suspect or 0, payload)
    if derived:
        _writing_events(s)
    for event in derived:
        insert_ignore(s, ChangeEvent, {
            "key": event_types.event_key(event.type, run_id=run.id), "type": event.type,
            "article_id": None, "version": None,
            "occurred_at": run.finished_at or utcnow(), "payload": event.payload}, ["key"])
    return [event.type for event in derived]


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


def _event_rows(s: Session, where, limit: int | None = None,
                with_text: bool = False) -> list[dict[str, Any]]:
    """Events with what filters and messages need of their article and version; the lead
    and body (`with_text`) only for a subscription's `query`, nothing else reads them."""
    text_columns = (ArticleVersion.lead, ArticleVersion.body) if with_text else ()
    stmt = (
        select(ChangeEvent, Article.article_id.label("site_article_id"),
               Article.url.label("article_url"), Site.name.label("site"),
               ArticleVersion.title, *text_columns,
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
                "url": row.article_url, "title": row.title,
                "lead": row.lead if with_text else None,
                "body": row.body if with_text else None,
                "section": row.section, "authors": row.authors or [], "tags": row.tags or [],
            },
        })
    return out


def enqueue(s: Session, name: str, matches: Callable[[dict[str, Any]], bool], *,
            bootstrap: bool = False, with_text: bool = True) -> int:
    """Queue for subscription `name` every event past its cursor that `matches` (and, unless
    `bootstrap`, that is not a new_article of the archive's first crawl); the rows queued.
    `with_text=False`: `matches` does not read the article's lead and body."""
    cursor = s.scalars(select(NotifyCursor).where(NotifyCursor.subscription == name)
                       .with_for_update()).first()
    if cursor is None:
        ensure_cursors(s, [name])
        cursor = s.scalars(select(NotifyCursor).where(NotifyCursor.subscription == name)
                           .with_for_update()).one()
    window = None if bootstrap else _bootstrap_window(s)
    horizon = _committed_horizon(s)
    queued = 0
    while True:
        where = ChangeEvent.id > cursor.last_event_id
        if horizon is not None:
            where = and_(where, ChangeEvent.id <= horizon)
        batch = _event_rows(s, where, ENQUEUE_BATCH, with_text)
        if not batch:
            return queued
        now = utcnow()
        queued += _queue(s, [{"event_id": event["id"], "subscription": name,
                              "status": "pending", "attempts": 0, "next_attempt_at": now}
                             for event in batch
                             if not _is_bootstrap(event, window) and matches(event)])
        cursor.last_event_id = batch[-1]["id"]
        s.flush()


def _queue(s: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping any already there; the number made. A Core executemany
    (batched by SQLAlchemy's insertmanyvalues): a tenth of the CPU of a row-by-row insert."""
    if not rows:
        return 0
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    table = OutboxRow.__table__
    stmt = (dialect.insert(table)
            .on_conflict_do_nothing(index_elements=["event_id", "subscription"])
            .returning(table.c.id))
    return len(s.execute(stmt, rows).all())


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


def oldest_pending(s: Session, name: str) -> datetime | None:
    """When the oldest event still pending for subscription `name` happened (a digest is
    due at the first cron time after it)."""
    return s.scalar(select(func.min(ChangeEvent.occurred_at))
                    .join(OutboxRow, OutboxRow.event_id == ChangeEvent.id)
                    .where(OutboxRow.subscription == name, OutboxRow.status == "pending"))


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
