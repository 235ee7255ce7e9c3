"""Recording fetches: one fetch event per page the crawler asked for, what came of it, and
the article and run counters it moves. New versions are made by storage/versions.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage import versioning
from storage.articles import (
    article_for_update,
    find_article,
    insert_article,
    touch_url,
    update_article,
)
from storage.errors import ArchiveError
from storage.models import Article, FetchEvent
from storage.outbox import record_status_event
from storage.rawpages import store_raw
from storage.rows import core_execute, site_id
from storage.runs import count_outcome
from storage.types import utcnow
from storage.versions import create_version, current_version, decide

_INSERT_EVENT = insert(FetchEvent.__table__).returning(FetchEvent.__table__.c.id)

# Outcomes whose raw page is kept: versions, and fetches held back for inspection.
_KEEPS_RAW = ("new_article", "new_version", "suspect", "parse_failure")
_HELD_BACK = ("suspect", "parse_failure")
_MAKES_VERSION = ("new_article", "new_version")


@dataclass(frozen=True)
class FetchOutcome:
    """What record_fetch did. `version` is the version created, or the current one when the
    page was unchanged; None for parse failures, suspect pages and articles without versions.
    `reason` explains suspect, parse_failure and "unchanged because preview" outcomes."""

    kind: str
    version: int | None
    changed_fields: list[str] = field(default_factory=list)
    reason: str | None = None
    event_id: int | None = None


def record_fetch(
    s: Session,
    run_id: int | None,
    site: str,
    article_id: str,
    url: str,
    record: dict[str, Any],
    raw: bytes | None,
    *,
    status: int = 200,
    etag: str | None = None,
    last_modified: str | None = None,
    fetched_at: datetime | None = None,
    content_type: str | None = None,
    max_body_shrink: float = versioning.DEFAULT_MAX_BODY_SHRINK,
    suspect_reason: str | None = None,
    note: str | None = None,
    new: bool = False,
) -> FetchOutcome:
    """Store one fetched and parsed article page; decide whether it is a new version.

    One transaction: site and article upserted (`url`, the URL the crawler chose to archive
    the article under, becomes the article's URL and enters its URL history), the outcome
    decided (versioning.classify), the raw page stored when a version is created or the page
    is suspect/unparseable, the version created, the article updated, a fetch event written
    and the run's counters bumped. Version 1 has changed_fields ["*"]. Suspect and
    parse-failure outcomes count as a check (last_checked moves, so a layout change does not
    make every article due on every run) but keep the validators of the last trusted fetch,
    so the next fetch is a full one rather than a 304 for content we did not accept.
    `suspect_reason` (trouble the crawler noticed before parsing: bad decoding, an
    interstitial) makes any parseable page suspect; `accept_suspect()` turns a suspect fetch
    into a version. `note` (e.g. why the page's canonical link was not taken as `url`) goes
    to the event. `new`: the caller believes the archive does not have the article yet (the
    row is then inserted without a look-up first; a wrong guess costs one more statement)."""
    now = fetched_at or utcnow()
    sid = site_id(s, site)
    fresh = current = None
    if new:
        # Decided against no version, and the row inserted with the values this fetch leaves
        # it with: one statement where an insert and an update were two.
        decision = _decide(record, None, suspect_reason, max_body_shrink)
        first = 1 if decision.kind in _MAKES_VERSION else None
        fresh = insert_article(s, sid, str(article_id), {
            "url": url, "first_seen": now,
            **_article_changes(decision, first, now, url, etag, last_modified)})
    # Known already, or inserted by a concurrent writer since the crawl looked.
    article = fresh if fresh is not None else article_for_update(s, sid, str(article_id), url, now)
    # The article's changes are written once, after the version: autoflush would send an
    # UPDATE before each statement in between (two or three per fetch).
    with s.no_autoflush:
        old_status = article.status
        if fresh is None:
            current = current_version(s, article)
            decision = _decide(record, current, suspect_reason, max_body_shrink)
        kind = decision.kind
        raw_sha = store_raw(s, raw, content_type) if kind in _KEEPS_RAW else None
        version_no: int | None = None

        if kind in _MAKES_VERSION:
            version_no = create_version(s, article, current, decision, record, url=url,
                                        raw_sha=raw_sha, fetched_at=now,
                                        number=1 if fresh else None)
        elif kind == "unchanged":
            version_no = article.current_version
        if kind in ("new_article", "new_version", "unchanged"):
            touch_url(s, article, url, now)
        update_article(s, article,
                       _article_changes(decision, version_no, now, url, etag, last_modified))

        event_id = _insert_event(
            s,
            run_id=run_id,
            article_id=article.id,
            url=url,
            http_status=status,
            outcome=kind,
            version=version_no,
            content_hash=decision.content_hash,
            changed_fields=decision.changed_fields or None,
            error_kind=kind if kind in _HELD_BACK else None,
            message="; ".join(filter(None, (decision.reason, note))) or None,
            raw_page_sha=raw_sha,
            record=_jsonable(record) if kind in _HELD_BACK else None,
            fetched_at=now,
        )
        # A gone article that is back.
        _status_changed(s, article, old_status, event_id, now, status, url)
        count_outcome(s, run_id, kind)
        return FetchOutcome(kind, version_no, decision.changed_fields, decision.reason, event_id)


def record_not_modified(
    s: Session,
    run_id: int | None,
    site: str,
    article_id: str,
    url: str,
    fetched_at: datetime | None = None,
    *,
    status: int = 304,
) -> None:
    """A conditional request answered 304: the article was checked and is unchanged."""
    now = fetched_at or utcnow()
    article = find_article(s, site, article_id, lock=True)
    old_status = article.status if article is not None else None
    if article is not None:
        article.last_checked = now
        article.status = "live"
    event_id = _log_fetch(s, run_id, article, url, status, "not_modified", now,
                          version=_version_of(article))
    _status_changed(s, article, old_status, event_id, now, status, url)


def record_gone(
    s: Session,
    run_id: int | None,
    site: str,
    article_id: str,
    url: str,
    status: int,
    *,
    fetched_at: datetime | None = None,
    note: str | None = None,
) -> None:
    """The article answered 404/410 (status "gone") or redirected away from any article
    (3xx: status "redirected"). Its versions are kept; a later successful fetch makes it
    live again."""
    now = fetched_at or utcnow()
    article = find_article(s, site, article_id, lock=True)
    old_status = article.status if article is not None else None
    if article is not None:
        article.status = "redirected" if 300 <= int(status) < 400 else "gone"
        article.last_checked = now
        article.etag = article.last_modified = None
    event_id = _log_fetch(s, run_id, article, url, status, "gone", now,
                          version=_version_of(article), message=note)
    _status_changed(s, article, old_status, event_id, now, status, url)


def record_error(
    s: Session,
    run_id: int | None,
    url: str,
    kind: str,
    message: str,
    *,
    site: str | None = None,
    article_id: str | None = None,
    status: int | None = None,
    raw: bytes | None = None,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> None:
    """A fetch that failed (timeout, DNS, 5xx, ...). Counts in `errors` and
    `errors_by_kind[kind]`; the article, if known, is left as it was."""
    article = None
    if site is not None and article_id is not None:
        article = find_article(s, site, article_id, lock=False)
    _log_fetch(s, run_id, article, url, status, "error", fetched_at or utcnow(),
               counters={"errors_by_kind": {kind: 1}}, error_kind=kind, message=message,
               raw_page_sha=store_raw(s, raw, content_type))


def record_parse_failure(
    s: Session,
    run_id: int | None,
    site: str,
    article_id: str | None,
    url: str,
    raw: bytes | None,
    reason: str,
    *,
    status: int = 200,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> None:
    """The parser could not read the page at all (ParseError). The raw page is kept on the
    fetch event; no article row is created for an unknown article."""
    article = None
    if article_id is not None:
        article = find_article(s, site, article_id, lock=False)
    _log_fetch(s, run_id, article, url, status, "parse_failure", fetched_at or utcnow(),
               error_kind="parse_failure", message=reason,
               raw_page_sha=store_raw(s, raw, content_type))


def accept_suspect(s: Session, event_id: int, *, note: str | None = None) -> FetchOutcome:
    """Confirm a suspect fetch (after someone looked at it, or the parser was checked): its
    kept record becomes the article's next version, with the fetch's time and raw page.
    Refused when the event is not an unaccepted suspect or when the article has a version
    newer than the fetch. Content equal to the current version creates nothing (kind
    "unchanged"). The run counters of the original fetch are left as they were."""
    event = s.get(FetchEvent, event_id, with_for_update=True)
    if event is None or event.outcome != "suspect":
        raise ArchiveError(f"fetch event {event_id} is not a suspect fetch")
    if event.version is not None:
        raise ArchiveError(f"fetch event {event_id} was already accepted")
    if event.record is None or event.article_id is None:
        raise ArchiveError(f"fetch event {event_id} kept no record to accept")
    article = s.scalars(
        select(Article).where(Article.id == event.article_id).with_for_update()
    ).one()
    current = current_version(s, article)
    if current is not None and current.fetched_at > event.fetched_at:
        raise ArchiveError(
            f"article has version {current.version} fetched after event {event_id}"
        )
    decision = decide(event.record, current, confirmed=True)
    if decision.kind == "unchanged":
        number = current.version
    elif decision.kind in ("new_article", "new_version"):
        number = create_version(s, article, current, decision, event.record, url=event.url,
                                raw_sha=event.raw_page_sha, fetched_at=event.fetched_at)
    else:
        raise ArchiveError(f"fetch event {event_id}: {decision.reason}")
    event.version = number
    accepted = f"accepted as version {number}" + (f": {note}" if note else "")
    event.message = f"{event.message}; {accepted}" if event.message else accepted
    return FetchOutcome(decision.kind, number, decision.changed_fields, event.message, event.id)


def _decide(record: dict[str, Any], current, suspect_reason: str | None,
            max_body_shrink: float) -> versioning.Decision:
    decision = decide(record, current, max_body_shrink=max_body_shrink)
    if suspect_reason and decision.kind != "parse_failure":
        decision = replace(decision, kind="suspect", reason=suspect_reason)
    return decision


def _article_changes(decision: versioning.Decision, version_no: int | None, now: datetime,
                     url: str, etag: str | None, last_modified: str | None) -> dict[str, Any]:
    """The article columns a fetch sets, by its outcome. Suspect and parse-failure fetches
    count as a check and change nothing else (record_fetch says why)."""
    kind = decision.kind
    changes: dict[str, Any] = {"last_checked": now}
    if version_no is not None and kind != "unchanged":
        changes.update(current_version=version_no, last_changed=now)
    if kind in ("new_article", "new_version", "unchanged"):
        changes.update(url=url, status="live", etag=etag, last_modified=last_modified)
        published = versioning.parse_instant(decision.normalised["published_at"])
        if published is not None:
            changes["published_at"] = published
        if kind != "unchanged" and decision.normalised["section"]:
            changes["section"] = decision.normalised["section"]
    return changes


def _version_of(article: Article | None) -> int | None:
    return article.current_version or None if article else None


def _log_fetch(s: Session, run_id: int | None, article: Article | None, url: str,
               status: int | None, outcome: str, now: datetime, *,
               counters: dict[str, Any] | None = None, **fields: Any) -> int:
    """One fetch event for an outcome that creates no version, and its run counters; the
    event's id."""
    event_id = _insert_event(s, run_id=run_id, article_id=article.id if article else None,
                             url=url, http_status=status, outcome=outcome, fetched_at=now,
                             **fields)
    count_outcome(s, run_id, outcome, **(counters or {}))
    return event_id


def _insert_event(s: Session, **values: Any) -> int:
    # A Core insert: the ORM's unit of work for an object nothing reads back in the
    # transaction cost more CPU than the statement (one per fetch).
    return core_execute(s, _INSERT_EVENT, values).scalar_one()


def _status_changed(s: Session, article: Article | None, old_status: str | None,
                    event_id: int, fetched_at: datetime, http_status: int | None,
                    url: str) -> None:
    """The removed/restored event of a fetch that moved the article's status (none when it
    did not), in the fetch's transaction and keyed by its fetch event."""
    if article is None or old_status == article.status:
        return
    record_status_event(s, article, old_status, article.status, event_id, fetched_at,
                        {"http_status": http_status, "url": url,
                         "previous_status": old_status})


def _jsonable(value: Any) -> Any:
    """The record as JSON-safe data (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
