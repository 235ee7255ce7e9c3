"""Search on PostgreSQL: the query tree as a tsquery over `version_fts` (the tsvectors and
the `newsmon_fold` configuration are described in storage/fts.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, bindparam, column, text
from sqlalchemy.engine import Connection

from storage.fts import PG_CONFIG
from storage.models import ArticleVersion
from storage.query.connection import id_in
from storage.query.hits import hit_select
from storage.query.language import Or, Phrase

# The user's words, as a bound parameter, folded the way the index was.
_TSQUERY = f"to_tsquery('{PG_CONFIG}', :tsq)"


def to_tsquery(node) -> str:
    """A PostgreSQL to_tsquery() expression (words quoted as tsquery lexemes)."""
    if isinstance(node, Phrase):
        lexemes = [f"'{w}'" for w in node.words]
        if node.prefix:
            lexemes[-1] += ":*"
        return "(" + " <-> ".join(lexemes) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(n) for n in node.options) + ")"
    parts = [to_tsquery(n) for n in node.positive] + [f"!{to_tsquery(n)}" for n in node.negative]
    return "(" + " & ".join(parts) + ")"


def facet_ids(name: str, tree):
    """A subquery of the version ids whose facet `name` (authors or tags) matches `tree`."""
    return text(f"SELECT version_id FROM version_fts WHERE {name} @@ {_TSQUERY}").bindparams(
        bindparam("tsq", to_tsquery(tree), unique=True)).columns(
        column("version_id", Integer))


def search(conn: Connection, tree, *, all_versions: bool, limit: int,
           window: int | None) -> list[dict[str, Any]]:
    """The best `limit` hits (HIT_COLUMNS and rank), best first; see storage.query.searching."""
    scored = _scored(conn, to_tsquery(tree), window)
    if not scored:
        return []
    # Best first; the article columns are fetched for the best few (enough for `limit` once
    # the non-current versions are dropped), not for the whole window.
    ranked = sorted(scored, key=lambda r: (-r[1], -r[0]))
    hits: list[dict[str, Any]] = []
    step = limit * 3
    for start in range(0, len(ranked), step):
        chunk = dict(ranked[start:start + step])
        query = hit_select(all_versions=all_versions).where(
            id_in(conn, ArticleVersion.id, list(chunk)))
        for row in conn.execute(query):
            hit = dict(row._mapping)
            hit["rank"] = float(chunk[hit["version_id"]])
            hits.append(hit)
        if len(hits) >= limit:
            break
    hits.sort(key=lambda h: (-h["rank"], -h["version_id"]))
    return hits[:limit]


# A query the planner expects in at least this share of the versions is "dense": the newest
# ids, tested one by one, give the window sooner than the GIN index, which must read the
# word's whole posting list (a word in 60% of 250,000 versions: 15 ms against 2). A prefix
# makes the index merge the lists of every word it starts, so half that share will do.
DENSE_SHARE = 0.3
# How many versions the dense walk may test, as a multiple of window / share.
DENSE_MARGIN = 2.5


def _newest_of_dense(conn: Connection, tsq: str, window: int, top: int) -> list | None:
    """The newest `window` matches of a dense query, ranked as _scored ranks them, by
    walking the primary key down from the newest id over a bounded range; None when the
    query is not dense or the range held fewer matches (then the index path answers)."""
    plan = conn.scalar(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM version_fts WHERE "
                            f"document @@ {_TSQUERY}"), {"tsq": tsq})
    share = plan[0]["Plan"]["Plan Rows"] / top if top else 0.0
    if share < (DENSE_SHARE / 2 if ":*" in tsq else DENSE_SHARE):
        return None
    span = min(top, int(DENSE_MARGIN * window / share) + 1)
    # Every version in the range is a candidate, so the matches found are the newest ones
    # as long as there are `window` of them.
    scored = conn.execute(text(
        f"SELECT version_id, ts_rank(head, {_TSQUERY}) FROM ("
        f"  SELECT version_id, head FROM ("
        f"    SELECT version_id, head, document FROM version_fts WHERE version_id > :lo"
        f"    ORDER BY version_id DESC) AS newest"
        f"  WHERE document @@ {_TSQUERY} LIMIT :window) AS w"
    ), {"tsq": tsq, "lo": top - span, "window": window}).all()
    return scored if len(scored) >= window else None


def _scored(conn: Connection, tsq: str, window: int | None) -> list:
    """(version id, ts_rank) of the matches ranked: the newest `window`, or all."""
    # The planner takes `document @@ q` for cheap, but each document is a TOASTed vector of
    # several kB: left alone it scans the table (seconds for a common word) or walks the
    # primary key backwards testing row after row. With plain index scans and sequential
    # scans off it can only combine bitmaps: the GIN index for the words and, below, the
    # primary key for an id range, so only rows that match are read.
    top = conn.scalar(text("SELECT max(version_id) FROM version_fts")) or 0
    if window is not None:
        dense = _newest_of_dense(conn, tsq, window, top)
        if dense is not None:
            return dense
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
    q = _TSQUERY
    if window is None:
        # Every match, ranked by ts_rank over the whole document (title A, lead B, body C).
        scored = conn.execute(text(
            f"SELECT version_id, ts_rank(document, {q}) FROM version_fts WHERE document @@ {q}"
        ), {"tsq": tsq}).all()
    else:
        # The newest `window` matches: look among the newest ids first (a common word fills
        # the window there, and the primary-key range spares reading all its matches), else
        # everywhere (then the matches are few enough to read). They are ranked by the small
        # title+lead vector (`head`, see storage/fts.py).
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
    return scored
