"""Reading the archive: list, show, versions, diff, search, export, stats.

Every function takes an open `Archive` (or an SQLAlchemy `Engine`) and returns plain data:
dicts whose keys follow the parser's record (`article_id`, `url`, `title`, `lead`, `authors`,
`published_at`, `updated_at`, `paywalled`, `paywall_percent`, `body`, ...) plus `id` (the
archive's article id), `version` and, in listings, `versions` (how many). Dates are aware
datetimes in UTC. The CLI (crawler/cli/query_cmd.py) only parses arguments and formats.

Reads run in read-only transactions (deferred BEGIN on SQLite, see storage/db.py). Large
results stream: `iter_articles` / `iter_versions` / `export_records` fetch in batches with
server-side cursors on PostgreSQL and never hold the archive in memory.

An ARTICLE reference (`resolve_article`) is the site's article id ("40671561" or
"art40671561"), a URL the article was seen under, or the archive id.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Engine,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy import column as sa_column
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from storage.db import read_engine
from storage.models import Article, ArticleUrl, ArticleVersion, Site
from storage.query_diff import diff_records
from storage.query_search import (
    QueryError,
    highlight,
    mentions,
    parse_query,
    snippet,
    to_fts5,
    to_tsquery,
)
from storage.types import UTCDateTime

__all__ = [
    "ORDERS",
    "ArticleFilter",
    "QueryError",
    "archive_stats",
    "diff_versions",
    "export_records",
    "get_version",
    "iter_articles",
    "iter_versions",
    "list_articles",
    "list_versions",
    "rebuild_search_index",
    "resolve_article",
    "search",
    "write_csv",
    "write_jsonl",
]

# Listing orders: name -> help text (the columns are in _order_by()).
ORDERS = {
    "newest": "publication date, newest first (default)",
    "oldest": "publication date, oldest first",
    "changed": "most recently changed first",
    "versions": "most versions first",
    "id": "archive id",
}

# Columns of a version as the record names them, in record order (export/show).
RECORD_FIELDS = (
    "site", "article_id", "url", "canonical_url", "section", "title", "lead", "body",
    "authors", "published_at", "updated_at", "paywalled", "paywall_percent", "body_complete",
    "tags", "image", "related", "word_count", "sources", "parser_version",
)
VERSION_META = ("id", "version", "versions", "fetched_at", "content_hash", "changed_fields")


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


# -- plumbing -------------------------------------------------------------------------


def _engine(target: Any) -> Engine:
    engine = getattr(target, "engine", target)
    if not isinstance(engine, Engine):
        raise TypeError(f"expected an Archive or an Engine, got {type(target).__name__}")
    return read_engine(engine)


@contextmanager
def _reading(target: Any) -> Iterator[Connection]:
    """A read-only connection for one query function. On PostgreSQL, parallel workers are
    switched off for its transaction: these are small indexed queries, and starting workers
    cost more than the whole query (tens of ms on a busy machine)."""
    with _engine(target).connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        yield conn


def _id_in(conn: Connection, column, ids: list[int]):
    """`column IN ids`. On PostgreSQL one array parameter (`= ANY(:ids)`): 500 separate
    parameters cost more to render and parse than the query takes to run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer), unique=True))
    return column.in_(ids)


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _instant(value: datetime | date | None, *, end_of_day: bool = False) -> datetime | None:
    """A bound as an aware UTC datetime; a plain date is its whole day (UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    moment = datetime.combine(value, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end_of_day else moment


def _current_join():
    """articles JOIN their current version JOIN sites."""
    return (
        Article.__table__.join(
            ArticleVersion.__table__,
            and_(
                ArticleVersion.article_id == Article.id,
                ArticleVersion.version == Article.current_version,
            ),
        ).join(Site.__table__, Site.id == Article.site_id)
    )


def _fts_ids(conn: Connection, column: str, value: str):
    """A subquery of version ids whose `column` (authors or tags) contains the folded words of
    `value` as a phrase."""
    tree = parse_query(f'"{value.replace(chr(34), " ")}"')
    if _is_sqlite(conn):
        return text(
            "SELECT rowid FROM facet_fts WHERE facet_fts MATCH :m"
        ).bindparams(bindparam("m", f"{column} : {to_fts5(tree)}", unique=True)).columns(
            sa_column("rowid", Integer))
    return text(
        f"SELECT version_id FROM version_fts WHERE {column} @@ to_tsquery('newsmon_fold', :m)"
    ).bindparams(bindparam("m", to_tsquery(tree), unique=True)).columns(
        sa_column("version_id", Integer))


def _apply_filters(conn: Connection, query, flt: ArticleFilter | None):
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
    for column, value in (("authors", flt.author), ("tags", flt.tag)):
        if value and value.strip():
            try:
                ids = _fts_ids(conn, column, value)
            except QueryError:
                raise QueryError(f"nothing to match in {column[:-1]} {value!r}") from None
            key = ArticleVersion.id
            if _is_sqlite(conn) and _fts_count(conn, column, value) > COMMON_FACET:
                # SQLite's planner cannot know how many rows an FTS5 match gives and always
                # starts from them. For a common author or tag, walking the articles in
                # listing order and checking membership finds 50 rows far sooner; "+ 0"
                # keeps the planner from driving the loop with the match.
                key = ArticleVersion.id + 0
            query = query.where(key.in_(ids))
    return query


# An author or tag with more matching versions than this counts as common (see above).
COMMON_FACET = 2000


def _fts_count(conn: Connection, column: str, value: str) -> int:
    """How many versions match, counted up to COMMON_FACET + 1 (a full count costs more than
    the listing itself)."""
    tree = parse_query(f'"{value.replace(chr(34), " ")}"')
    return conn.scalar(
        text("SELECT count(*) FROM (SELECT rowid FROM facet_fts WHERE facet_fts MATCH :m "
             "LIMIT :cap)"),
        {"m": f"{column} : {to_fts5(tree)}", "cap": COMMON_FACET + 1},
    ) or 0


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


_LISTING_COLUMNS = (
    Article.id.label("id"),
    Site.name.label("site"),
    Article.article_id.label("article_id"),
    Article.url.label("url"),
    Article.published_at.label("published_at"),
    ArticleVersion.title.label("title"),
    ArticleVersion.authors.label("authors"),
    Article.current_version.label("versions"),
    ArticleVersion.paywalled.label("paywalled"),
    ArticleVersion.paywall_percent.label("paywall_percent"),
    Article.section.label("section"),
    ArticleVersion.tags.label("tags"),
    Article.status.label("status"),
    Article.last_changed.label("last_changed"),
)


# -- listing -------------------------------------------------------------------------


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
    with _reading(archive) as conn:
        # Two steps: the ids in order first (narrow rows, so a sort over many candidates
        # stays cheap), then the columns shown, for those ids only. Version rows are wide
        # (the body sits before authors and tags), and reading them for every candidate of a
        # filter was what made listings slow.
        query = _apply_filters(conn, select(Article.id).select_from(_current_join()), flt)
        ids = _ordered_ids(conn, query, order, limit, offset)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = {
                row.id: row
                for row in conn.execute(select(*_LISTING_COLUMNS).select_from(_current_join())
                                        .where(Article.id.in_(chunk)))
            }
            for article_id in chunk:
                yield dict(rows[article_id]._mapping)


def _stream(conn: Connection, query, batch: int = 500):
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    yield from result


# -- one article -------------------------------------------------------------------------

_ART_ID = re.compile(r"^(?:art)?(\d+)$", re.IGNORECASE)
_ART_IN_URL = re.compile(r"/art(\d+)(?:[-/.?#]|$)", re.IGNORECASE)


def resolve_article(archive, ref: str | int, *, site: str | None = None) -> int:
    """The archive id of the article `ref` names: the site's article id ("40671561",
    "art40671561"), a URL it was seen under (or any URL with /art<id> in its path), or the
    archive id. A site article id takes precedence over an archive id of the same number.
    Raises QueryError when nothing or more than one article matches."""
    ref = str(ref).strip()
    if not ref:
        raise QueryError("empty article reference")
    with _reading(archive) as conn:
        # Naming the site ids lets the unique (site_id, article_id) index answer the lookup.
        sites = select(Site.id) if not site else select(Site.id).where(Site.name == site)
        site_ids = list(conn.scalars(sites))
        base = select(Article.id).where(Article.site_id.in_(site_ids))
        candidates: list[int] = []
        match = _ART_ID.match(ref)
        if match:
            candidates = _ids(conn, base.where(Article.article_id == match.group(1)))
            # (An archive id is a 32-bit integer on PostgreSQL: larger numbers cannot be one.)
            if not candidates and ref.isdigit() and int(ref) < 2**31:
                candidates = _ids(conn, base.where(Article.id == int(ref)))
        elif "://" in ref or ref.startswith("/"):
            url = ref.split("#", 1)[0]
            candidates = _ids(conn, base.where(Article.url == url))
            if not candidates:
                candidates = _ids(conn, base.join(ArticleUrl, ArticleUrl.article_id == Article.id)
                                  .where(ArticleUrl.url == url).distinct())
            path_id = _ART_IN_URL.search(urlsplit(url).path + "/")
            if not candidates and path_id:
                candidates = _ids(conn, base.where(Article.article_id == path_id.group(1)))
        else:
            raise QueryError(f"not an article reference: {ref!r} (expected an id such as "
                             "40671561 or art40671561, or a URL)")
    if not candidates:
        raise QueryError(f"no article {ref!r} in the archive")
    if len(candidates) > 1:
        raise QueryError(f"{ref!r} matches {len(candidates)} articles (several sites?)")
    return candidates[0]


def _ids(conn: Connection, query) -> list[int]:
    return list(dict.fromkeys(conn.scalars(query.limit(3)).all()))


_VERSION_COLUMNS = (
    Article.id.label("id"),
    Site.name.label("site"),
    Article.article_id.label("article_id"),
    Article.current_version.label("versions"),
    Article.status.label("status"),
    ArticleVersion.version,
    ArticleVersion.fetched_at,
    ArticleVersion.content_hash,
    ArticleVersion.changed_fields,
    ArticleVersion.url,
    ArticleVersion.canonical_url,
    ArticleVersion.section,
    ArticleVersion.title,
    ArticleVersion.lead,
    ArticleVersion.body,
    ArticleVersion.authors,
    ArticleVersion.published_at,
    ArticleVersion.updated_at,
    ArticleVersion.paywalled,
    ArticleVersion.paywall_percent,
    ArticleVersion.body_complete,
    ArticleVersion.tags,
    ArticleVersion.image,
    ArticleVersion.related,
    ArticleVersion.word_count,
    ArticleVersion.sources,
    ArticleVersion.parser_version,
    ArticleVersion.raw_page_sha,
)


def _version_query():
    return select(*_VERSION_COLUMNS).select_from(
        ArticleVersion.__table__.join(Article.__table__, Article.id == ArticleVersion.article_id)
        .join(Site.__table__, Site.id == Article.site_id)
    )


def get_version(archive, ref: str | int, version: int | None = None) -> dict[str, Any]:
    """The record of one version of an article (default: its current version): the record's
    fields plus id, version, versions, status, fetched_at, content_hash, changed_fields,
    raw_page_sha. Raises QueryError for an unknown article or version."""
    article = resolve_article(archive, ref)
    with _reading(archive) as conn:
        query = _version_query().where(ArticleVersion.article_id == article)
        if version is None:
            query = query.where(ArticleVersion.version == Article.current_version)
        else:
            query = query.where(ArticleVersion.version == int(version))
        row = conn.execute(query).first()
        if row is None:
            if version is None:
                raise QueryError(f"article {ref!r} has no stored version yet")
            count = conn.scalar(select(Article.current_version).where(Article.id == article))
            raise QueryError(f"article {ref!r} has no version {version} (versions: 1..{count})")
        return dict(row._mapping)


def list_versions(archive, ref: str | int) -> list[dict[str, Any]]:
    """An article's version history, oldest first: version, fetched_at, content_hash,
    changed_fields (["*"] for version 1), title, paywall_percent, word_count."""
    article = resolve_article(archive, ref)
    with _reading(archive) as conn:
        rows = conn.execute(
            select(
                ArticleVersion.version,
                ArticleVersion.fetched_at,
                ArticleVersion.content_hash,
                ArticleVersion.changed_fields,
                ArticleVersion.title,
                ArticleVersion.paywall_percent,
                ArticleVersion.word_count,
            )
            .where(ArticleVersion.article_id == article)
            .order_by(ArticleVersion.version)
        ).all()
    return [dict(r._mapping) for r in rows]


def diff_versions(
    archive, ref: str | int, from_version: int | None = None, to_version: int | None = None,
) -> dict[str, Any]:
    """Per-field differences between two versions (default: the last two). Returns {id,
    article_id, title, from, to, from_fetched_at, to_fetched_at, fields: [{field, old, new,
    ops?}]}: `ops` is the word-level diff of title, lead and body (see query_diff)."""
    if (from_version is None) != (to_version is None):
        raise QueryError("give both versions to compare, or neither")
    current = get_version(archive, ref)
    if from_version is None:
        if current["versions"] < 2:
            raise QueryError(f"article {ref!r} has a single version: nothing to compare")
        from_version, to_version = current["versions"] - 1, current["versions"]
    old = get_version(archive, current["id"], from_version)
    new = current if to_version == current["version"] else get_version(
        archive, current["id"], to_version)
    return {
        "id": current["id"],
        "article_id": current["article_id"],
        "title": new["title"],
        "from": old["version"],
        "to": new["version"],
        "from_fetched_at": old["fetched_at"],
        "to_fetched_at": new["fetched_at"],
        "fields": diff_records(old, new),
    }


# -- search -------------------------------------------------------------------------

SNIPPET_MARKS = ("[", "]")


# Matches ranked per query: the newest RANK_WINDOW matching versions (see search()).
RANK_WINDOW = 250


def search(
    archive, query: str, *, all_versions: bool = False, limit: int = 20,
    marks: tuple[str, str] = SNIPPET_MARKS, window: int | None = RANK_WINDOW,
) -> list[dict[str, Any]]:
    """Full-text search over title, lead and body (query syntax: storage.query_search).

    Searches each article's current version, or every version with `all_versions`. Results
    best first: id, site, article_id, version, versions, published_at, title, url, rank
    (higher is better), title_highlighted and snippet (the best passage of the body, else of
    the lead), with matches between `marks`. Raises QueryError for a malformed query.

    Ranking covers the newest `window` matching versions, so that a word in half the archive
    ("Rosja") costs what a rare one does: its 250 most recent matches are ranked, which
    suits news. Within them, SQLite ranks matches in the title above the lead above the body,
    newest first in each tier; PostgreSQL uses ts_rank with the same weights (title A, lead
    B, body C). `window=None` ranks every match, by bm25 on SQLite: exact but slow for
    common words."""
    if limit < 1:
        raise QueryError("limit must be at least 1")
    if window is not None and window < limit:
        raise QueryError("the ranking window must be at least the limit")
    tree = parse_query(query)
    with _reading(archive) as conn:
        if _is_sqlite(conn):
            hits = _search_sqlite(conn, tree, all_versions, limit, marks, window)
        else:
            hits = _search_pg(conn, tree, all_versions, limit, marks, window)
    return hits


def _result_columns() -> str:
    return ("v.id AS version_id, a.id AS id, s.name AS site, a.article_id AS article_id, "
            "v.version AS version, a.current_version AS versions, "
            "a.published_at AS published_at, v.title AS title, v.url AS url")


def _typed(clause):
    """Raw SQL with its date column read through the model's type (aware UTC datetimes)."""
    return clause.columns(published_at=UTCDateTime())


def _search_sqlite(conn, tree, all_versions, limit, marks, window):
    expr = to_fts5(tree)
    if window is not None:
        return _search_sqlite_window(conn, tree, expr, all_versions, limit, marks, window)
    # Every match ranked by bm25 (title 10, lead 4, body 1). bm25 first counts each term's
    # documents over its whole posting list: tens of ms for a common word.
    current = "WHERE v.version = a.current_version" if not all_versions else ""
    inner = ("SELECT rowid AS vid, -bm25(version_fts, 10.0, 4.0, 1.0, 0.0, 0.0) AS score "
             "FROM version_fts WHERE version_fts MATCH :match")
    params = {"match": "{title lead body} : " + expr}
    try:
        rows = conn.execute(
            _typed(text(
                f"SELECT {_result_columns()}, w.score AS rank FROM ({inner}) AS w "
                "JOIN article_versions v ON v.id = w.vid "
                "JOIN articles a ON a.id = v.article_id JOIN sites s ON s.id = a.site_id "
                f"{current} ORDER BY w.score DESC, v.id DESC LIMIT :limit"
            )),
            {**params, "limit": limit},
        ).all()
    except Exception as exc:
        _fts5_error(exc)
    return _decorate(conn, [dict(r._mapping) for r in rows], tree, marks)


def _search_sqlite_window(conn, tree, expr, all_versions, limit, marks, window):
    """The newest `window` matches, tiered: a match in the title scores 4, in the lead 2, in
    the body only 1; newest first within a tier. FTS5 walks the posting lists once, newest
    first, and stops; the tiers are decided on the window's titles and leads in Python (the
    highlighter's matcher), which costs less than asking FTS5 again per column (a prefix
    query re-merges every matching term's list each time)."""
    try:
        vids = list(conn.scalars(text(
            "SELECT rowid FROM version_fts WHERE version_fts MATCH :match "
            "ORDER BY rowid DESC LIMIT :window"),
            {"match": "{title lead body} : " + expr, "window": window}))
    except Exception as exc:
        _fts5_error(exc)
    if not vids:
        return []
    query = select(
        ArticleVersion.id.label("version_id"), Article.id.label("id"), Site.name.label("site"),
        Article.article_id, ArticleVersion.version, Article.current_version.label("versions"),
        Article.published_at, ArticleVersion.title, ArticleVersion.url,
        ArticleVersion.lead,
    ).select_from(
        ArticleVersion.__table__.join(Article.__table__, Article.id == ArticleVersion.article_id)
        .join(Site.__table__, Site.id == Article.site_id)
    ).where(_id_in(conn, ArticleVersion.id, vids))
    if not all_versions:
        query = query.where(ArticleVersion.version == Article.current_version)
    hits = []
    for row in conn.execute(query):
        hit = dict(row._mapping)
        lead = hit.pop("lead")
        hit["rank"] = 1 + 3 * mentions(hit["title"], tree) + mentions(lead, tree)
        hits.append(hit)
    hits.sort(key=lambda h: (-h["rank"], -h["version_id"]))
    return _decorate(conn, hits[:limit], tree, marks)


def _fts5_error(exc: Exception):
    """An expression FTS5 rejects despite our parser becomes a QueryError; others propagate."""
    if "fts5" in str(exc).lower():
        raise QueryError(f"search query not understood: {exc.__cause__ or exc}") from None
    raise exc


def _decorate(conn: Connection, hits: list[dict[str, Any]], tree, marks) -> list[dict[str, Any]]:
    """Add title_highlighted and snippet (body passage, else lead) to each hit."""
    if not hits:
        return hits
    texts = {
        row.id: row
        for row in conn.execute(
            select(ArticleVersion.id, ArticleVersion.lead, ArticleVersion.body)
            .where(ArticleVersion.id.in_([h["version_id"] for h in hits]))
        )
    }
    for hit in hits:
        row = texts.get(hit["version_id"])
        hit["title_highlighted"], _ = highlight(hit["title"], tree, marks)
        passage, found = snippet(row.body if row else None, tree, marks)
        if not found and row is not None and row.lead:
            lead_passage, lead_found = snippet(row.lead, tree, marks)
            if lead_found:
                passage = lead_passage
        hit["snippet"] = passage
    return hits


def _search_pg(conn, tree, all_versions, limit, marks, window):
    tsq = to_tsquery(tree)
    # The planner takes `document @@ q` for cheap, but each document is a TOASTed vector of
    # several kB: left alone it scans the table (seconds for a common word) or walks the
    # primary key backwards testing row after row. With plain index scans and sequential
    # scans off it can only combine bitmaps: the GIN index for the words and, below, the
    # primary key for an id range, so only rows that match are read.
    top = conn.scalar(text("SELECT max(version_id) FROM version_fts")) or 0
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
    q = "to_tsquery('newsmon_fold', :tsq)"
    if window is None:
        # Every match, ranked by ts_rank over the whole document (title A, lead B, body C).
        scored = conn.execute(text(
            f"SELECT version_id, ts_rank(document, {q}) FROM version_fts WHERE document @@ {q}"
        ), {"tsq": tsq}).all()
    else:
        # The newest `window` matches: look among the newest ids first (a common word fills
        # the window there, and the primary-key range spares reading all its matches), else
        # everywhere (then the matches are few enough to read). They are ranked by the small
        # title+lead vector (`head`, migration 0006).
        span = window * 8
        for first in (True, False):
            # A range over a large part of the table tempts the planner into the primary
            # key alone (then testing every document): no range for small tables.
            ranged = first and span < top // 4
            # ts_rank in the outer query: only for the rows the window keeps.
            scored = conn.execute(text(
                f"SELECT version_id, ts_rank(head, {q}) FROM ("
                f"  SELECT version_id, head FROM version_fts "
                f"  WHERE document @@ {q} {'AND version_id > :lo' if ranged else ''} "
                "  ORDER BY version_id DESC LIMIT :window) AS w"
            ), {"tsq": tsq, "lo": top - span, "window": window}).all()
            if len(scored) >= window or not ranged:
                break
    conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    conn.exec_driver_sql("SET LOCAL enable_indexscan = on")
    if not scored:
        return []
    # Best first; the article columns are fetched for the best few (enough for `limit` once
    # the non-current versions are dropped), not for the whole window.
    ranked = sorted(scored, key=lambda r: (-r[1], -r[0]))
    hits: list[dict[str, Any]] = []
    step = limit * 3
    for start in range(0, len(ranked), step):
        chunk = dict(ranked[start:start + step])
        query = select(
            ArticleVersion.id.label("version_id"), Article.id.label("id"),
            Site.name.label("site"), Article.article_id, ArticleVersion.version,
            Article.current_version.label("versions"), Article.published_at,
            ArticleVersion.title, ArticleVersion.url,
        ).select_from(
            ArticleVersion.__table__.join(Article.__table__,
                                          Article.id == ArticleVersion.article_id)
            .join(Site.__table__, Site.id == Article.site_id)
        ).where(_id_in(conn, ArticleVersion.id, list(chunk)))
        if not all_versions:
            query = query.where(ArticleVersion.version == Article.current_version)
        for row in conn.execute(query):
            hit = dict(row._mapping)
            hit["rank"] = float(chunk[hit["version_id"]])
            hits.append(hit)
        if len(hits) >= limit:
            break
    hits.sort(key=lambda h: (-h["rank"], -h["version_id"]))
    return _decorate(conn, hits[:limit], tree, marks)


def rebuild_search_index(archive) -> int:
    """Re-index every version (after a restore, or if the index is suspected to drift).
    Returns the number of versions indexed. On SQLite this replaces FTS5's own 'rebuild',
    which would index unfolded text."""
    import importlib

    mig = importlib.import_module("storage.migrations.versions.0003_search")
    head = importlib.import_module("storage.migrations.versions.0006_pg_search_head")
    engine = getattr(archive, "engine", archive)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("INSERT INTO version_fts(version_fts) VALUES ('delete-all')")
            conn.exec_driver_sql(
                f"INSERT INTO version_fts(rowid, {', '.join(mig.FTS_COLUMNS)}) "
                f"SELECT v.id, {mig._sqlite_values('v')} FROM article_versions AS v"
            )
            facets = importlib.import_module("storage.migrations.versions.0007_sqlite_facet_fts")
            for sql in facets.rebuild_sql():
                conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("DELETE FROM version_fts")
            conn.exec_driver_sql(
                "INSERT INTO version_fts (version_id, document, authors, tags, head) "
                f"SELECT {head.pg_values('v')} FROM article_versions AS v"
            )
        return conn.scalar(select(func.count()).select_from(ArticleVersion))


# -- export -------------------------------------------------------------------------


def iter_versions(
    archive, flt: ArticleFilter | None = None, *, all_versions: bool = False, batch: int = 500,
) -> Iterator[dict[str, Any]]:
    """Version records of the articles `flt` selects (current versions, or every version with
    `all_versions`), by article then version, streamed in batches."""
    with _reading(archive) as conn:
        query = _versions_query(conn, select(*_VERSION_COLUMNS), flt, all_versions)
        for row in _stream(conn, query, batch):
            yield dict(row._mapping)


def _versions_query(conn: Connection, query, flt: ArticleFilter | None, all_versions: bool):
    query = query.select_from(
        _current_join() if not all_versions else
        Article.__table__.join(ArticleVersion.__table__, ArticleVersion.article_id == Article.id)
        .join(Site.__table__, Site.id == Article.site_id)
    )
    if flt is not None and not flt.is_empty():
        # Filters speak about the current version; in a history export they pick the
        # articles, whose versions all follow.
        if all_versions:
            chosen = _apply_filters(conn, select(Article.id).select_from(_current_join()), flt)
            query = query.where(Article.id.in_(chosen))
        else:
            query = _apply_filters(conn, query, flt)
    return query.order_by(Article.id, ArticleVersion.version)


EXPORT_FIELDS = VERSION_META + RECORD_FIELDS
_DATE_FIELDS = ("fetched_at", "published_at", "updated_at")


def export_records(
    archive, flt: ArticleFilter | None = None, *, all_versions: bool = False, batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Records for export, streamed: EXPORT_FIELDS (VERSION_META + the record's fields),
    JSON-safe (dates as ISO 8601 strings in UTC)."""
    columns = {c.key: c for c in _VERSION_COLUMNS}
    with _reading(archive) as conn:
        sqlite = _is_sqlite(conn)
        selected = []
        for key in EXPORT_FIELDS:
            column = columns[key]
            if sqlite and key in _DATE_FIELDS:
                # SQLite keeps UTC text; reading it through the DateTime type (a regex per
                # value) costs more than the rest of the export row.
                column = type_coerce(column, String).label(key)
            selected.append(column)
        query = _versions_query(conn, select(*selected), flt, all_versions)
        positions = [EXPORT_FIELDS.index(k) for k in _DATE_FIELDS]
        for row in _stream(conn, query, batch):
            values = list(row)
            for i in positions:
                if values[i] is not None:
                    values[i] = _iso(values[i])
            yield dict(zip(EXPORT_FIELDS, values, strict=True))


def _iso(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)) \
        .isoformat()


_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps(**kw) builds one per call


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line; returns the count. Lines are written in batches."""
    n = 0
    batch: list[str] = []
    for record in records:
        batch.append(_JSON.encode(record))
        n += 1
        if len(batch) == 500:
            out.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")
    return n


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, *, raw: bool = False) -> str:
    """A CSV cell: lists and objects as JSON, None as empty, booleans as true/false; text
    starting like a formula gets a leading apostrophe unless `raw`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        text_value = json.dumps(value, ensure_ascii=False)
    else:
        text_value = str(value)
    if not raw and text_value.startswith(FORMULA_PREFIXES):
        return "'" + text_value
    return text_value


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], *, raw: bool = False) -> int:
    """CSV with a header row taken from the first record; returns the count of records."""
    writer = None
    n = 0
    for record in records:
        if writer is None:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(list(record))
        writer.writerow([csv_cell(v, raw=raw) for v in record.values()])
        n += 1
    if writer is None:  # still write the header, so an empty export is a valid CSV
        csv.writer(out, lineterminator="\n").writerow(list(VERSION_META + RECORD_FIELDS))
    return n


def read_csv_records(text_or_file: str | IO[str]) -> list[dict[str, Any]]:
    """Parse write_csv output back (for tests and tools): JSON cells decoded, the formula
    apostrophe removed."""
    fh = io.StringIO(text_or_file) if isinstance(text_or_file, str) else text_or_file
    out = []
    for row in csv.DictReader(fh):
        item = {}
        for key, value in row.items():
            if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
                value = value[1:]
            item[key] = value
        out.append(item)
    return out


# -- stats -------------------------------------------------------------------------


def archive_stats(archive, *, days: int = 30, top: int = 10) -> dict[str, Any]:
    """Totals and distributions: articles, versions, changed articles, changes per day (new
    versions 2+ by fetch day, last `days` days), top changed fields, top authors (current
    versions), paywall share (current versions), runs."""
    since = datetime.now(UTC) - timedelta(days=days)
    with _reading(archive) as conn:
        articles = conn.scalar(select(func.count()).select_from(Article)
                               .where(Article.current_version > 0)) or 0
        versions = conn.scalar(select(func.count()).select_from(ArticleVersion)) or 0
        changed = conn.scalar(select(func.count()).select_from(Article)
                              .where(Article.current_version > 1)) or 0
        status = dict(conn.execute(select(Article.status, func.count())
                                   .group_by(Article.status)).all())
        paywalled = conn.scalar(
            select(func.count()).select_from(_current_join())
            .where(ArticleVersion.paywalled.is_(True))) or 0
        avg_percent = conn.scalar(
            select(func.avg(ArticleVersion.paywall_percent)).select_from(_current_join()))
        first, last = conn.execute(
            select(func.min(Article.published_at), func.max(Article.published_at))).one()

        # Aggregated in SQL (JSON arrays unnested by the database): streaming every version
        # through Python took seconds on a 100,000-article archive.
        if _is_sqlite(conn):
            day = "date(v.fetched_at)"
            unnest = "json_each(v.{col}) AS e"
            value = "e.value"
        else:
            day = "to_char(v.fetched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            unnest = ("jsonb_array_elements_text(CASE WHEN jsonb_typeof(v.{col}) = 'array' "
                      "THEN v.{col} END) AS e(value)")
            value = "e.value"
        per_day = dict(conn.execute(text(
            f"SELECT {day} AS day, count(*) FROM article_versions v "
            "WHERE v.version > 1 AND v.fetched_at >= :since GROUP BY day ORDER BY day"),
            {"since": since if not _is_sqlite(conn) else since.replace(tzinfo=None)}).all())
        fields_count = conn.execute(text(
            f"SELECT {value}, count(*) AS n FROM article_versions v, "
            f"{unnest.format(col='changed_fields')} WHERE v.version > 1 "
            f"GROUP BY {value} ORDER BY n DESC, {value} LIMIT :top"), {"top": top}).all()
        current = "JOIN articles a ON a.id = v.article_id AND v.version = a.current_version"
        authors = conn.execute(text(
            f"SELECT {value}, count(*) AS n FROM article_versions v {current}, "
            f"{unnest.format(col='authors')} GROUP BY {value} ORDER BY n DESC, {value}"
        )).all()

    return {
        "articles": articles,
        "versions": versions,
        "changed_articles": changed,
        "changed_share": round(changed / articles, 4) if articles else 0.0,
        "status": status,
        "published_first": first,
        "published_last": last,
        "changes_per_day": {str(k): v for k, v in per_day.items()},
        "top_changed_fields": [(str(k), n) for k, n in fields_count],
        "top_authors": [(str(k), n) for k, n in authors[:top]],
        "authors": len(authors),
        "paywalled": paywalled,
        "paywall_share": round(paywalled / articles, 4) if articles else 0.0,
        "paywall_percent_avg": round(float(avg_percent), 1) if avg_percent is not None else None,
    }
