"""Which articles a listing or an export covers: `ArticleFilter`, and applying it to a query."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Connection

from storage.models import Article, ArticleVersion, Site
from storage.query import search_pg, search_sqlite
from storage.query.connection import is_sqlite
from storage.query.errors import QueryError
from storage.query.language import parse_phrase

# An author or tag with more matching versions than this counts as common (see
# apply_filters).
COMMON_FACET = 2000


@dataclass
class ArticleFilter:
    """Which articles a listing or an export covers. Dates: `since`/`until` bound the
    publication date (a `date` means the whole day, UTC; `until` is inclusive); text matches
    (`author`, `tag`) are whole words, case and diacritics folded, so "lomanowski" finds
    "Andrzej Łomanowski" and "marek kozubal" the phrase. Attribute filters look at each
    article's current version."""

    since: datetime | date | None = None
    until: datetime | date | None = None
    author: str | None = None
    section: str | None = None
    tag: str | None = None
    paywalled: bool | None = None  # True: paywalled only; False: free only
    changed: bool = False  # more than one version
    changed_since: datetime | date | None = None  # a new version (2+) fetched since then
    site: str | None = None

    def is_empty(self) -> bool:
        return self.paywalled is None and all(
            getattr(self, f.name) in (None, False) for f in fields(self) if f.name != "paywalled"
        )


def _instant(value: datetime | date | None, *, end_of_day: bool = False) -> datetime | None:
    """A bound as an aware UTC datetime; a plain date is its whole day (UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    moment = datetime.combine(value, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end_of_day else moment


def apply_filters(conn: Connection, query, flt: ArticleFilter | None):
    """`query` (over articles joined with their current version and site) narrowed by `flt`."""
    if flt is None:
        return query
    if flt.since is not None:
        query = query.where(Article.published_at >= _instant(flt.since))
    if flt.until is not None:
        if isinstance(flt.until, datetime):
            query = query.where(Article.published_at <= _instant(flt.until))
        else:  # a date: the whole day is in
            query = query.where(Article.published_at < _instant(flt.until, end_of_day=True))
    if flt.section:
        query = query.where(func.lower(Article.section) == flt.section.lower())
    if flt.site:
        query = query.where(Site.name == flt.site)
    if flt.paywalled is not None:
        query = query.where(ArticleVersion.paywalled.is_(bool(flt.paywalled)))
    if flt.changed:
        query = query.where(Article.current_version > 1)
    if flt.changed_since is not None:
        query = query.where(Article.current_version > 1,
                            Article.last_changed >= _instant(flt.changed_since))
    for name, value in (("authors", flt.author), ("tags", flt.tag)):
        if value and value.strip():
            query = query.where(_facet_match(conn, name, value))
    return query


def _facet_match(conn: Connection, name: str, value: str):
    """The condition that a version's facet `name` (authors or tags) contains the folded words
    of `value` as a phrase."""
    try:
        tree = parse_phrase(value)
    except QueryError:
        raise QueryError(f"nothing to match in {name[:-1]} {value!r}") from None
    if not is_sqlite(conn):
        return ArticleVersion.id.in_(search_pg.facet_ids(name, tree))
    key = ArticleVersion.id
    if search_sqlite.facet_count(conn, name, tree, COMMON_FACET + 1) > COMMON_FACET:
        # SQLite's planner cannot know how many rows an FTS5 match gives and always starts
        # from them. For a common author or tag, walking the articles in listing order and
        # checking membership finds 50 rows far sooner; "+ 0" keeps the planner from driving
        # the loop with the match.
        key = ArticleVersion.id + 0
    return key.in_(search_sqlite.facet_ids(name, tree))
