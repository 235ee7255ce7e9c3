"""Listing articles: one row per article with its current version's title, authors and
paywall, filtered (storage.query.filters) and in one of the ORDERS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from storage.models import Article, ArticleVersion, Site
from storage.query.connection import reading
from storage.query.errors import QueryError
from storage.query.filters import ArticleFilter, apply_filters
from storage.query.records import current_join

# Listing orders: name -> help text (the columns are in _order_key()).
ORDERS = {
    "newest": "publication date, newest first (default)",
    "oldest": "publication date, oldest first",
    "changed": "most recently changed first",
    "versions": "most versions first",
    "id": "archive id",
}

# Narrow on purpose (no lead or body): one row per article.
_LISTING_COLUMNS = (
    Article.id, Site.name.label("site"), Article.article_id, Article.url, Article.published_at,
    ArticleVersion.title, ArticleVersion.authors, Article.current_version.label("versions"),
    ArticleVersion.paywalled, ArticleVersion.paywall_percent, Article.section,
    ArticleVersion.tags, Article.status, Article.last_changed,
)


def list_articles(
    archive, flt: ArticleFilter | None = None, *, limit: int | None = 50, offset: int = 0,
    order: str = "newest",
) -> list[dict[str, Any]]:
    """Articles with their current version's title, authors and paywall, one dict each:
    id, site, article_id, url, published_at, title, authors, versions, paywalled,
    paywall_percent, section, tags, status, last_changed."""
    return list(iter_articles(archive, flt, limit=limit, offset=offset, order=order))


def iter_articles(
    archive, flt: ArticleFilter | None = None, *, limit: int | None = None, offset: int = 0,
    order: str = "newest",
) -> Iterator[dict[str, Any]]:
    """Like list_articles, streamed."""
    if limit is not None and limit < 1:
        raise QueryError("limit must be at least 1")
    _order_key(order)  # a bad order is bad input before any query runs
    with reading(archive) as conn:
        # Two steps: the ids in order first (narrow rows, so a sort over many candidates
        # stays cheap), then the columns shown, for those ids only. Version rows are wide
        # (the body sits before authors and tags), and reading them for every candidate of a
        # filter was what made listings slow.
        query = apply_filters(conn, select(Article.id).select_from(current_join()), flt)
        ids = _ordered_ids(conn, query, order, limit, offset)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = {
                row.id: row
                for row in conn.execute(select(*_LISTING_COLUMNS).select_from(current_join())
                                        .where(Article.id.in_(chunk)))
            }
            for article_id in chunk:
                yield dict(rows[article_id]._mapping)


def _order_key(order: str):
    """(nullable sort column or None, the full ORDER BY) for a listing order."""
    if order not in ORDERS:
        raise QueryError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    return {
        "newest": (Article.published_at, (Article.published_at.desc(), Article.id.desc())),
        "oldest": (Article.published_at, (Article.published_at.asc(), Article.id.asc())),
        "changed": (Article.last_changed, (Article.last_changed.desc(), Article.id.desc())),
        "versions": (None, (Article.current_version.desc(), Article.id.desc())),
        "id": (None, (Article.id.asc(),)),
    }[order]


def _ordered_ids(conn: Connection, query, order: str, limit: int | None,
                 offset: int) -> list[int]:
    """Article ids of `query` in listing order. Articles whose sort date is missing come last,
    fetched by a second query: a plain `ORDER BY date DESC` is what an index on the date can
    serve on both backends (NULLS LAST would need a dedicated index on PostgreSQL, and
    SQLite and PostgreSQL disagree on where NULLs go)."""
    nullable, columns = _order_key(order)
    want = None if limit is None else limit + offset
    if nullable is None:
        ids = list(conn.scalars(query.order_by(*columns).limit(want)))
    else:
        ids = list(conn.scalars(query.where(nullable.is_not(None)).order_by(*columns)
                                .limit(want)))
        if want is None or len(ids) < want:
            rest = None if want is None else want - len(ids)
            ids += conn.scalars(query.where(nullable.is_(None)).order_by(*columns[1:])
                                .limit(rest))
    return ids[offset:]
