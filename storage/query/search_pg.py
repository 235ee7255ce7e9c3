"""Search on PostgreSQL: the query tree as a tsquery over `version_fts` (the tsvectors and
the `newsmon_fold` configuration are described in storage/fts.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Float, Integer, String, bindparam, cast, column, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from storage.fts import PG_CONFIG
from storage.models import ArticleVersion
from storage.query.hits import TEXT_KEYS, hit_select
from storage.query.language import Or, Phrase

# The user's words, as a bound parameter, folded the way the index was.
_TSQUERY = f"to_tsquery('{PG_CONFIG}', :tsq)"
_LOOSE = f"to_tsquery('{PG_CONFIG}', :loose)"


def to_tsquery(node, *, phrases: bool = True) -> str:
    """A PostgreSQL to_tsquery() expression (words quoted as tsquery lexemes). Without
    `phrases`, a looser query that the GIN index answers without reading any document:
    phrases become their words (AND), and excluded phrases are not excluded."""
    if isinstance(node, Phrase):
        lexemes = [f"'{w}'" for w in node.words]
        if node.prefix:
            lexemes[-1] += ":*"
        return "(" + (" <-> " if phrases else " & ").join(lexemes) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(n, phrases=phrases) for n in node.options) + ")"
    parts = [to_tsquery(n, phrases=phrases) for n in node.positive]
    parts += [f"!{to_tsquery(n)}" for n in node.negative if phrases or not _has_phrase(n)]
    return "(" + " & ".join(parts) + ")"


def _has_phrase(node) -> bool:
    """Whether `node` holds a phrase of several words (the GIN index keeps no positions, so
    PostgreSQL re-reads each candidate's document to check one)."""
    if isinstance(node, Phrase):
        return len(node.words) > 1
    if isinstance(node, Or):
        return any(_has_phrase(n) for n in node.options)
    return any(_has_phrase(n) for n in (*node.positive, *node.negative))


def facet_ids(name: str, tree):
    """A subquery of the version ids whose facet `name` (authors or tags) matches `tree`."""
    return text(f"SELECT version_id FROM version_fts WHERE {name} @@ {_TSQUERY}").bindparams(
        bindparam("tsq", to_tsquery(tree), unique=True)).columns(
        column("version_id", Integer))


def search(conn: Connection, tree, *, all_versions: bool, limit: int,
           window: int | None) -> list[dict[str, Any]]:
    """The best `limit` hits (HIT_COLUMNS and rank), best first; see storage.query.searching.
    Each carries its lead and body under hits.TEXT_KEYS for decorate()."""
    loose = to_tsquery(tree, phrases=False) if _has_phrase(tree) else None
    scored = _scored(conn, to_tsquery(tree), window, loose)
    if not scored:
        return []
    # Best first; the best `limit` (current) versions of the best few, with their texts, in one
    # statement (enough for `limit` once the non-current versions are dropped; every match's
    # article columns would cost a lot with --rank-all). Ids and ranks go as array literals
    # (psycopg dumps a list of numbers in Python, which cost more than the query); repr()
    # keeps each rank exact.
    ranked = sorted(scored, key=lambda r: (-r[1], -r[0]))
    hits: list[dict[str, Any]] = []
    step = limit * 3
    for start in range(0, len(ranked), step):
        chunk = ranked[start:start + step]
        rows = conn.execute(_best_hits(all_versions), {
            "ids": "{" + ",".join(str(version_id) for version_id, _ in chunk) + "}",
            "ranks": "{" + ",".join(repr(float(rank)) for _, rank in chunk) + "}",
            "limit": limit})
        hits.extend(dict(row._mapping) for row in rows)
        if len(hits) >= limit:
            break
    hits.sort(key=lambda h: (-h["rank"], -h["version_id"]))
    return hits[:limit]


@lru_cache(maxsize=2)
def _best_hits(all_versions: bool):
    ranked = func.unnest(cast(bindparam("ids", type_=String), ARRAY(Integer)),
                         cast(bindparam("ranks", type_=String), ARRAY(Float))).table_valued(
        "version_id", "rank").render_derived(name="ranked")
    return (hit_select(ranked.c.rank, ArticleVersion.lead.label(TEXT_KEYS[0]),
                       ArticleVersion.body.label(TEXT_KEYS[1]), all_versions=all_versions)
            .join_from(ArticleVersion, ranked, ArticleVersion.id == ranked.c.version_id)
            .order_by(ranked.c.rank.desc(), ranked.c.version_id.desc())
            .limit(bindparam("limit")))


# A prefix query the planner expects in at least this share of the versions is "dense": the
# newest ids, tested one by one, give the window sooner than the GIN index, which must merge
# the whole posting lists of every word the prefix starts (a prefix in 26% of 250,000
# versions: 35 ms against 9; a word alone is cheaper by id ranges, below).
DENSE_SHARE = 0.15
# How many versions the dense walk may test, as a multiple of window / share.
DENSE_MARGIN = 2.5
# The newest id range searched first holds about this many times the window's matches, by
# the planner's estimate (which is low for words that go together, high for a phrase).
RANGE_MARGIN = 1.5
# A range reaching further back than this share of the ids costs more than reading every
# match: the query's matches are few enough then.
RANGE_LIMIT = 0.25
# The planner takes `document @@ q` for cheap, but each document is a TOASTed vector of
# several kB: left alone it scans the table (seconds for a common word) or walks the primary
# key backwards testing row after row. With plain index scans and sequential scans off it can
# only use bitmaps of the GIN index on (document, version_id), so only rows that match are
# read. (set_config: these go with another statement, saving a round trip each.)
_BITMAPS_ONLY = ("set_config('enable_seqscan', 'off', true), "
                 "set_config('enable_indexscan', 'off', true)")
_RESET = "SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on"


def _estimated_share(conn: Connection, tsq: str, top: int) -> float:
    """The share of the versions the planner expects to match (EXPLAIN: no execution)."""
    plan = conn.scalar(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM version_fts WHERE "
                            f"document @@ {_TSQUERY}"), {"tsq": tsq})
    return min(1.0, plan[0]["Plan"]["Plan Rows"] / top) if top else 1.0


def _newest_of_dense(conn: Connection, tsq: str, window: int, top: int,
                     share: float) -> list | None:
    """The newest `window` matches of a dense query, ranked as _scored ranks them, by
    walking the primary key down from the newest id over a bounded range; None when the
    query is not dense or the range held fewer matches (then the index path answers)."""
    if share < DENSE_SHARE:
        return None
    span = min(top, int(DENSE_MARGIN * window / share) + 1)
    # Every version in the range is a candidate, so the matches found are the newest ones
    # as long as there are `window` of them. (OFFSET 0: else the planner hands the match to
    # the GIN index, which would merge the prefix's posting lists.)
    scored = conn.execute(text(
        f"SELECT version_id, ts_rank(head, {_TSQUERY}) FROM ("
        f"  SELECT version_id, head FROM ("
        f"    SELECT version_id, head, document FROM version_fts WHERE version_id > :lo"
        f"    ORDER BY version_id DESC OFFSET 0) AS newest"
        f"  WHERE document @@ {_TSQUERY} LIMIT :window) AS w"
    ), {"tsq": tsq, "lo": top - span, "window": window}).all()
    return scored if len(scored) >= window else None


def _scored(conn: Connection, tsq: str, window: int | None, loose: str | None = None) -> list:
    """(version id, ts_rank) of the matches ranked: the newest `window`, or all. `loose`:
    the query without phrases (to_tsquery), when it has any."""
    q = _TSQUERY
    if window is None:
        conn.execute(text(f"SELECT {_BITMAPS_ONLY}"))
        # Every match, ranked by ts_rank over the whole document (title A, lead B, body C).
        scored = conn.execute(text(
            f"SELECT version_id, ts_rank(document, {q}) FROM version_fts "
            f"WHERE document @@ {q}"), {"tsq": tsq}).all()
    else:
        if ":*" in tsq:
            top = conn.scalar(text("SELECT max(version_id) FROM version_fts")) or 0
            share = _estimated_share(conn, tsq, top)
            dense = _newest_of_dense(conn, tsq, window, top, share)
            if dense is not None:
                return dense
            conn.execute(text(f"SELECT {_BITMAPS_ONLY}"))
        else:
            # (max() is planned before the settings change.)
            top = conn.execute(text(
                f"SELECT max(version_id), {_BITMAPS_ONLY} FROM version_fts")).first()[0] or 0
            share = _estimated_share(conn, tsq, top)
        scored = _newest_by_ranges(conn, tsq, window, top, share, loose)
    conn.exec_driver_sql(_RESET)
    return scored


def _newest_by_ranges(conn: Connection, tsq: str, window: int, top: int,
                      share: float, loose: str | None) -> list:
    """The newest `window` matches, ranked by the small title+lead vector (`head`, see
    storage/fts.py), found range by range of ids from the newest down. The GIN index holds
    the version id beside each word (btree_gin), so a range costs the matches in it, not
    the word's whole posting list (a word in 20% of 250,000 versions: 1 ms against 7-13); the
    first range is sized by the planner's estimate, the next by the matches found so far."""
    scored: list = []
    hi = None  # the first range has no upper bound: versions added meanwhile count too
    span = RANGE_MARGIN * window / max(share, 1e-9)
    while True:
        lo = int((top if hi is None else hi) - span)
        if top - lo > RANGE_LIMIT * top:
            # Far enough back that the matches are few: read them all, newest first.
            return _newest(conn, tsq, loose, "", {"need": window})
        ids = "AND version_id > :lo" + ("" if hi is None else " AND version_id <= :hi")
        rows = _newest(conn, tsq, loose, ids, {"lo": lo, "hi": hi, "need": window - len(scored)})
        scored.extend(rows)
        if len(scored) >= window:
            return scored
        # The next range: enough for what is missing at the density found so far (at least
        # twice as long, and far longer when this one held nothing).
        need = window - len(scored)
        span = max(2 * span, RANGE_MARGIN * need * span / len(rows)) if rows else 8 * span
        hi = lo


def _newest(conn: Connection, tsq: str, loose: str | None, ids: str, params: dict) -> list:
    """(version id, ts_rank by `head`) of the newest `need` matches among the versions the
    conditions `ids` select (SQL, "" for all)."""
    q = _TSQUERY
    if loose is None:
        # ts_rank in the outer query: only for the rows the window keeps.
        sql = (f"SELECT version_id, ts_rank(head, {q}) FROM ("
               f"  SELECT version_id, head FROM version_fts WHERE document @@ {q} {ids}"
               "   ORDER BY version_id DESC LIMIT :need) AS w")
    else:
        # A phrase is checked on the document, which the index cannot do: the index finds
        # the versions with its words, and their documents are read newest first only until
        # `need` match (OFFSET 0 keeps the phrase out of the index scan).
        sql = (f"SELECT version_id, ts_rank(head, {q}) FROM ("
               "  SELECT version_id, head FROM ("
               "    SELECT version_id, head, document FROM version_fts"
               f"    WHERE document @@ {_LOOSE} {ids} ORDER BY version_id DESC OFFSET 0) AS c"
               f"  WHERE document @@ {q} LIMIT :need) AS w")
    return conn.execute(text(sql), {"tsq": tsq, "loose": loose, **params}).all()
