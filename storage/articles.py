"""Articles as the crawler sees them: which are known, which are due for a re-check, and the
article rows that fetch recording looks up, creates and touches."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import NO_VALUE

from storage import revisit
from storage.errors import ArchiveError
from storage.models import Article, ArticleUrl, Site
from storage.rows import core_execute, insert_ignore, insert_new
from storage.types import utcnow


@dataclass(frozen=True)
class ArticleState:
    """What the crawler needs to know about a known article before fetching it."""

    site: str
    article_id: str
    url: str
    status: str
    current_version: int
    etag: str | None
    last_modified: str | None
    first_seen: datetime
    last_checked: datetime | None
    last_changed: datetime | None
    published_at: datetime | None


def _state(article: Article, site: str) -> ArticleState:
    return ArticleState(
        site=site,
        article_id=article.article_id,
        url=article.url,
        status=article.status,
        current_version=article.current_version,
        etag=article.etag,
        last_modified=article.last_modified,
        first_seen=article.first_seen,
        last_checked=article.last_checked,
        last_changed=article.last_changed,
        published_at=article.published_at,
    )


def known_article(s: Session, site: str, article_id: str) -> ArticleState | None:
    row = s.execute(
        select(Article, Site.name)
        .join(Site, Article.site_id == Site.id)
        .where(Site.name == site, Article.article_id == str(article_id))
    ).first()
    return _state(*row) if row else None


def known_article_ids(s: Session, site: str) -> set[str]:
    """The article ids the archive holds for `site` (one query: a crawl checks every
    discovered link against it)."""
    return set(s.scalars(
        select(Article.article_id).join(Site, Article.site_id == Site.id)
        .where(Site.name == site)
    ))


def due_articles(
    s: Session,
    site: str,
    now: datetime | None = None,
    policy: dict[str, Any] | None = None,
    mode: str = "due",
) -> list[ArticleState]:
    """Known articles to re-check now, least recently checked first.

    mode "none": nothing; "all": every known article of the site, whatever its age or
    status; "due": those whose revisit interval (storage.revisit, `policy` = the site's
    `[revisit]` table) has elapsed, gone articles included but less often. Due-ness is
    computed here from the stored facts (last check, publication, last change, status), so
    an edited policy applies to every article at once."""
    if mode not in ("due", "all", "none"):
        raise ArchiveError(f"invalid mode {mode!r}")
    if mode == "none":
        return []
    now = now or utcnow()
    policy = policy or {}
    query = (
        select(Article, Site.name)
        .join(Site, Article.site_id == Site.id)
        .where(Site.name == site)
        .order_by(Article.last_checked.is_not(None), Article.last_checked, Article.id)
    )
    if mode == "due":
        # Articles past the horizon are never due: leave them in the database (years of
        # archive would otherwise be loaded on every run). revisit.py decides the rest.
        horizon = timedelta(days=float(policy.get("horizon_days", revisit.DEFAULT_HORIZON_DAYS)))
        born = func.coalesce(Article.published_at, Article.first_seen)
        query = query.where(born >= now - horizon)
    states = [_state(a, name) for a, name in s.execute(query).all()]
    if mode == "all":
        return states
    return [st for st in states if revisit.is_due(st, now, policy)]


def find_article(s: Session, site: str, article_id: str, *, lock: bool) -> Article | None:
    """A known article's row (None when unknown), locked for the transaction with `lock`."""
    query = (
        select(Article)
        .join(Site, Article.site_id == Site.id)
        .where(Site.name == site, Article.article_id == str(article_id))
    )
    if lock:
        query = query.with_for_update(of=Article)
    return s.scalars(query).first()


def article_for_update(s: Session, site_id: int, article_id: str, url: str,
                       now: datetime) -> Article:
    """The article row, locked (PostgreSQL) for the rest of the transaction; created if new."""
    key = {"site_id": site_id, "article_id": article_id}
    article = s.scalars(_ARTICLE_FOR_UPDATE, key).first()
    if article is None:
        # None when a concurrent writer created it since: then it is read (and locked).
        article = (insert_article(s, site_id, article_id, {"url": url, "first_seen": now})
                   or s.scalars(_ARTICLE_FOR_UPDATE, key).one())
    return article


def insert_article(s: Session, site_id: int, article_id: str,
                   values: dict[str, Any]) -> Article | None:
    """A new article row with `values` (live, no version yet, unless they say otherwise),
    returned as a loaded object; None when the archive has the article already."""
    row = {"site_id": site_id, "article_id": article_id, "status": "live",
           "current_version": 0, **values}
    return insert_new(s, Article, row, ["site_id", "article_id"])


# Built once: building the expression cost as much CPU as running it (once per fetch).
_ARTICLE_FOR_UPDATE = (
    select(Article)
    .where(Article.site_id == bindparam("site_id"), Article.article_id == bindparam("article_id"))
    .with_for_update()
)


def touch_url(s: Session, article: Article, url: str, now: datetime) -> None:
    """Record that the article was seen under `url` now (its URL history)."""
    inserted = insert_ignore(
        s,
        ArticleUrl,
        {"article_id": article.id, "url": url, "first_seen": now, "last_seen": now},
        ["article_id", "url"],
    )
    if not inserted:
        s.execute(
            update(ArticleUrl)
            .where(ArticleUrl.article_id == article.id, ArticleUrl.url == url)
            .values(last_seen=now)
        )


def update_article(s: Session, article: Article, values: dict[str, Any]) -> None:
    """Write `values` to the article's row by one Core UPDATE and into the object as its
    committed state: the ORM's flush of the same change cost more CPU than the statement (a
    crawl updates every article it fetches). Only the values that differ from the row as
    loaded are written; none, no statement (a new article inserted with its final values)."""
    state = sa_inspect(article)
    changed = {name: value for name, value in values.items()
               if state.committed_state.get(name, state.dict.get(name, NO_VALUE)) != value}
    if changed:
        core_execute(s, _update_statement(tuple(sorted(changed))),
                     {**changed, "_id": article.id})
    for name, value in values.items():
        set_committed_value(article, name, value)


@functools.cache
def _update_statement(columns: tuple[str, ...]):
    table = Article.__table__
    return (update(table).where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in columns}))
