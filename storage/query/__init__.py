"""Reading the archive: list, show, versions, diff, search, export, stats.

Every function takes an open `Archive` (or an SQLAlchemy `Engine`, or a connection from
connection.reading() to run several in one transaction) and returns plain data (see
records.py for the shape of a record). The CLI (newsmon/cli/query_cmd.py) only parses
arguments and formats. Reads run in read-only transactions (deferred BEGIN on SQLite, see
storage/db.py); large results stream.

Modules, one concern each:
    filters     ArticleFilter and applying it
    listing     list_articles / iter_articles, ORDERS
    lookup      resolve_article (-> ArchiveId), get_version, get_versions, list_versions,
                last_rewrite
    diff        diff_versions and the word-level diff
    language    the search query language (parse_query)
    searching   search(), dispatching to search_sqlite / search_pg
    highlight   highlighted titles and snippets; hits: the columns of a search hit
    export      iter_versions, export_records, write_jsonl, write_csv
    stats       archive_stats
    runs        list_runs, list_fetch_events (crawl runs and what each fetch came to)
The full-text index itself (tables, triggers, rebuild) is storage/fts.py.
"""

from storage.fts import rebuild_search_index
from storage.query.connection import reading
from storage.query.diff import condense, diff_records, diff_versions, render_markers, word_diff
from storage.query.errors import QueryError
from storage.query.export import (
    EXPORT_FIELDS,
    csv_cell,
    export_records,
    iter_versions,
    read_csv_records,
    write_csv,
    write_jsonl,
)
from storage.query.filters import ArticleFilter
from storage.query.listing import ORDERS, iter_articles, list_articles
from storage.query.lookup import (
    ArchiveId,
    get_version,
    get_versions,
    last_rewrite,
    list_versions,
    resolve_article,
)
from storage.query.runs import list_fetch_events, list_runs
from storage.query.searching import RANK_WINDOW, SNIPPET_MARKS, search
from storage.query.stats import archive_stats

__all__ = [
    "EXPORT_FIELDS",
    "ORDERS",
    "RANK_WINDOW",
    "ArchiveId",
    "SNIPPET_MARKS",
    "ArticleFilter",
    "QueryError",
    "archive_stats",
    "condense",
    "csv_cell",
    "diff_records",
    "diff_versions",
    "export_records",
    "get_version",
    "get_versions",
    "iter_articles",
    "iter_versions",
    "last_rewrite",
    "list_articles",
    "list_fetch_events",
    "list_runs",
    "list_versions",
    "read_csv_records",
    "reading",
    "rebuild_search_index",
    "render_markers",
    "resolve_article",
    "search",
    "word_diff",
    "write_csv",
    "write_jsonl",
]
