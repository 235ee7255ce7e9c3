"""Search on SQLite: the query tree as an FTS5 MATCH expression over `version_fts` (title,
lead, body) and `facet_fts` (authors, tags); the tables are described in storage/fts.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, bindparam, column, text
from sqlalchemy.engine import Connection

from storage.models import ArticleVersion
from storage.query.connection import id_in
from storage.query.errors import QueryError
from storage.query.highlight import mentions
from storage.query.hits import hit_select
from storage.query.language import Or, Phrase


def to_fts5(node) -> str:
    """An FTS5 MATCH expression. Every word is double-quoted, so FTS5 keywords (NEAR, AND...)
    in the user's text are plain words; words are folded letters and digits only."""
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"' + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(n) for n in node.options) + ")"
    expr = "(" + " AND ".join(to_fts5(n) for n in node.positive) + ")"
    for neg in node.negative:
        expr = f"({expr} NOT {to_fts5(neg)})"
    return expr


# -- author and tag filters --------------------------------------------------------------------


def facet_ids(name: str, tree):
    """A subquery of the version ids whose facet `name` (authors or tags) matches `tree`."""
    return text("SELECT rowid FROM facet_fts WHERE facet_fts MATCH :m").bindparams(
        bindparam("m", f"{name} : {to_fts5(tree)}", unique=True)).columns(
        column("rowid", Integer))


def facet_count(conn: Connection, name: str, tree, cap: int) -> int:
    """How many versions match facet `name`, counted up to `cap` (a full count of a common
    author costs more than the listing itself)."""
    return conn.scalar(
        text("SELECT count(*) FROM (SELECT rowid FROM facet_fts WHERE facet_fts MATCH :m "
             "LIMIT :cap)"),
        {"m": f"{name} : {to_fts5(tree)}", "cap": cap},
    ) or 0


# -- search ------------------------------------------------------------------------------------


def search(conn: Connection, tree, *, all_versions: bool, limit: int,
           window: int | None) -> list[dict[str, Any]]:
    """The best `limit` hits (HIT_COLUMNS and rank), best first; see storage.query.searching."""
    match = "{title lead body} : " + to_fts5(tree)
    if window is None:
        return _ranked_by_bm25(conn, match, all_versions, limit)
    return _ranked_in_window(conn, tree, match, all_versions, limit, window)


def _ranked_by_bm25(conn, match, all_versions, limit):
    # Every match ranked by bm25 (title 10, lead 4, body 1). bm25 first counts each term's
    # documents over its whole posting list: tens of ms for a common word.
    scored = text(
        "SELECT rowid AS vid, -bm25(version_fts, 10.0, 4.0, 1.0, 0.0, 0.0) AS score "
        "FROM version_fts WHERE version_fts MATCH :match"
    ).bindparams(match=match).columns(column("vid", Integer), column("score", Float)).subquery()
    query = (hit_select(scored.c.score.label("rank"), all_versions=all_versions)
             .join(scored, scored.c.vid == ArticleVersion.id)
             .order_by(scored.c.score.desc(), ArticleVersion.id.desc()).limit(limit))
    try:
        rows = conn.execute(query).all()
    except Exception as exc:
        _fts5_error(exc)
    return [dict(r._mapping) for r in rows]


def _ranked_in_window(conn, tree, match, all_versions, limit, window):
    """The newest `window` matches, tiered: a match in the title scores 4, in the lead 2, in
    the body only 1; newest first within a tier. FTS5 walks the posting lists once, newest
    first, and stops; the tiers are decided on the window's titles and leads in Python (the
    highlighter's matcher), which costs less than asking FTS5 again per column (a prefix
    query re-merges every matching term's list each time)."""
    try:
        vids = list(conn.scalars(text(
            "SELECT rowid FROM version_fts WHERE version_fts MATCH :match "
            "ORDER BY rowid DESC LIMIT :window"),
            {"match": match, "window": window}))
    except Exception as exc:
        _fts5_error(exc)
    if not vids:
        return []
    hits = []
    query = hit_select(ArticleVersion.lead, all_versions=all_versions).where(
        id_in(conn, ArticleVersion.id, vids))
    for row in conn.execute(query):
        hit = dict(row._mapping)
        lead = hit.pop("lead")
        hit["rank"] = 1 + 3 * mentions(hit["title"], tree) + mentions(lead, tree)
        hits.append(hit)
    hits.sort(key=lambda h: (-h["rank"], -h["version_id"]))
    return hits[:limit]


def _fts5_error(exc: Exception):
    """An expression FTS5 rejects despite our parser becomes a QueryError; others propagate."""
    if "fts5" in str(exc).lower():
        raise QueryError(f"search query not understood: {exc.__cause__ or exc}") from None
    raise exc
