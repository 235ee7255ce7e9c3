"""Full-text search over title, lead and body, on either back end (query syntax:
storage.query.language)."""

from __future__ import annotations

from typing import Any

from storage.query import search_pg, search_sqlite
from storage.query.connection import is_sqlite, reading
from storage.query.errors import QueryError
from storage.query.hits import decorate
from storage.query.language import parse_query

SNIPPET_MARKS = ("[", "]")

# Matches ranked per query: the newest RANK_WINDOW matching versions (see search()).
RANK_WINDOW = 250


def search(
    archive, query: str, *, all_versions: bool = False, limit: int = 20,
    marks: tuple[str, str] = SNIPPET_MARKS, window: int | None = RANK_WINDOW,
) -> list[dict[str, Any]]:
    """Full-text search over title, lead and body.

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
    with reading(archive) as conn:
        backend = search_sqlite if is_sqlite(conn) else search_pg
        hits = backend.search(conn, tree, all_versions=all_versions, limit=limit, window=window)
        return decorate(conn, hits, tree, marks)
