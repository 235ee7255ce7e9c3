"""The full-text index as runtime code knows it: the one place that writes its SQL.

SQLite: FTS5 external-content tables over article_versions (rowid = version id), kept in sync
by triggers. `version_fts` indexes title, lead, body, authors and tags; `facet_fts` authors
and tags alone, so an author or tag filter walks posting lists of facet words only. The
triggers fold the letters Unicode cannot decompose (ł -> l, ...) with nested replace(); the
`unicode61 remove_diacritics 2` tokenizer does the rest. Never run FTS5's own 'rebuild' on
these tables (it would index unfolded text): `rebuild_search_index()` is the rebuild.

PostgreSQL: a text search configuration `newsmon_fold` (a copy of `simple` with `unaccent` in
front: PostgreSQL has no Polish configuration) and a table `version_fts` of tsvectors: the
document (title A, lead B, body C), authors, tags, and `head` (title A, lead B: a small
vector that ranking can read without detoasting the document), with GIN indexes, filled by
a trigger on article_versions. The document's index also holds each version id (the
`btree_gin` extension), so that a search for the newest matches of a common word reads the
matches in an id range instead of the word's whole posting list.

Both are plain SQL on the database side, so any writer (another process, a database shell)
keeps the index right. This module describes the schema at the migration head; the
migrations that built it keep frozen copies of their SQL (a migration must mean the same
forever), and tests/storage/test_fts_frozen.py checks that the two agree. Changing anything
here therefore needs a migration that moves existing archives to it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import ArticleVersion
from storage.textfold import EXTRA_FOLDS, ONE_TO_ONE

# -- SQLite ------------------------------------------------------------------------------------

# Each FTS5 table and the article_versions columns it indexes, in index column order.
SQLITE_TABLES = {
    "version_fts": ("title", "lead", "body", "authors", "tags"),
    "facet_fts": ("authors", "tags"),
}
# Columns holding a JSON array of names: indexed as the names joined by " ; ".
NAME_LISTS = ("authors", "tags")
SQLITE_TOKENIZER = "unicode61 remove_diacritics 2"


def sqlite_fold_sql(expr: str) -> str:
    """`expr` with EXTRA_FOLDS applied by nested replace() calls (plain SQL, so a write from
    the sqlite3 shell indexes the same). `expr` is SQL written by us, never user input."""
    # One replace() per letter: a few passes over a body cost ~0.3 ms per version on insert,
    # nothing next to fetching the page.
    for src, dst in EXTRA_FOLDS.items():
        expr = f"replace({expr}, '{src}', '{dst}')"
    return expr


def sqlite_values(table: str, row: str) -> str:
    """The folded values `table` indexes for a version row (`row`: new, old or an alias)."""
    values = []
    for column in SQLITE_TABLES[table]:
        expr = f"{row}.{column}"
        if column in NAME_LISTS:
            expr = f"(SELECT group_concat(value, ' ; ') FROM json_each({expr}))"
        values.append(sqlite_fold_sql(expr))
    return ", ".join(values)


def sqlite_create_table(table: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE {table} USING fts5({', '.join(SQLITE_TABLES[table])}, "
        f"content='article_versions', content_rowid='id', tokenize='{SQLITE_TOKENIZER}')"
    )


def sqlite_triggers(table: str) -> dict[str, str]:
    """Trigger name -> CREATE TRIGGER keeping `table` in sync with article_versions. (A batch
    migration that rebuilds article_versions on SQLite drops these and must recreate them.)"""
    cols = ", ".join(SQLITE_TABLES[table])
    insert = f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {sqlite_values(table, 'new')});"
    delete = (f"INSERT INTO {table}({table}, rowid, {cols}) "
              f"VALUES ('delete', old.id, {sqlite_values(table, 'old')});")
    return {
        f"{table}_ai":
            f"CREATE TRIGGER {table}_ai AFTER INSERT ON article_versions BEGIN {insert} END",
        f"{table}_ad":
            f"CREATE TRIGGER {table}_ad AFTER DELETE ON article_versions BEGIN {delete} END",
        f"{table}_au":
            f"CREATE TRIGGER {table}_au AFTER UPDATE OF {cols} ON article_versions "
            f"BEGIN {delete} {insert} END",
    }


def sqlite_ddl() -> list[str]:
    """Everything that creates the SQLite full-text index (tables, then triggers)."""
    ddl = []
    for table in SQLITE_TABLES:
        ddl.append(sqlite_create_table(table))
        ddl.extend(sqlite_triggers(table).values())
    return ddl


def sqlite_fill(table: str) -> str:
    """Index every existing version in `table` (which must be empty)."""
    return (f"INSERT INTO {table}(rowid, {', '.join(SQLITE_TABLES[table])}) "
            f"SELECT v.id, {sqlite_values(table, 'v')} FROM article_versions AS v")


# -- PostgreSQL --------------------------------------------------------------------------------

PG_CONFIG = "newsmon_fold"
PG_COLUMNS = ("version_id", "document", "authors", "tags", "head")
PG_INDEXED = ("document", "authors", "tags")  # GIN-indexed (head is read only for ranking)
# Columns indexed beside one of PG_INDEXED, in the same GIN index (btree_gin).
PG_INDEXED_WITH = {"document": ("version_id",)}
PG_FUNCTION = "newsmon_version_fts"
PG_TRIGGER = "version_fts_sync"


def _pg_vector(expr: str) -> str:
    # unaccent misses a few letters; translate() takes the one-to-one folds first.
    src, dst = "".join(ONE_TO_ONE), "".join(ONE_TO_ONE.values())
    return f"to_tsvector('{PG_CONFIG}', translate(coalesce({expr}, ''), '{src}', '{dst}'))"


def _pg_names(row: str, column: str) -> str:
    return (
        f"(SELECT string_agg(x, ' ; ') FROM jsonb_array_elements_text("
        f"CASE WHEN jsonb_typeof({row}.{column}) = 'array' THEN {row}.{column} END) AS x)"
    )


def _pg_weighted(row: str, weights: tuple[tuple[str, str], ...]) -> str:
    return " || ".join(f"setweight({_pg_vector(f'{row}.{column}')}, '{weight}')"
                       for column, weight in weights)


def pg_values(row: str) -> str:
    """The PG_COLUMNS values of a version row (for INSERT ... SELECT)."""
    document = _pg_weighted(row, (("title", "A"), ("lead", "B"), ("body", "C")))
    head = _pg_weighted(row, (("title", "A"), ("lead", "B")))
    return (f"{row}.id, {document}, {_pg_vector(_pg_names(row, 'authors'))}, "
            f"{_pg_vector(_pg_names(row, 'tags'))}, {head}")


def pg_index(column: str) -> str:
    columns = ", ".join((column, *PG_INDEXED_WITH.get(column, ())))
    return f"CREATE INDEX ix_version_fts_{column} ON version_fts USING gin ({columns})"


def pg_ddl() -> list[str]:
    """Everything that creates the PostgreSQL full-text index."""
    return [
        # unaccent is a trusted extension (PostgreSQL >= 13): a database owner may create it.
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        "CREATE EXTENSION IF NOT EXISTS btree_gin",  # trusted too (PostgreSQL >= 13)
        f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = simple)",
        f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
        "CREATE TABLE version_fts ("
        " version_id integer PRIMARY KEY REFERENCES article_versions(id) ON DELETE CASCADE,"
        " document tsvector NOT NULL, authors tsvector NOT NULL, tags tsvector NOT NULL,"
        " head tsvector)",
        *(pg_index(column) for column in PG_INDEXED),
        f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  INSERT INTO version_fts ({', '.join(PG_COLUMNS)})\n"
        f"  SELECT {pg_values('NEW')}\n"
        "  ON CONFLICT (version_id) DO UPDATE SET document = EXCLUDED.document,\n"
        "    authors = EXCLUDED.authors, tags = EXCLUDED.tags, head = EXCLUDED.head;\n"
        "  RETURN NULL;\n"
        "END $$",
        f"CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OF title, lead, body, authors, "
        f"tags ON article_versions FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
    ]


def pg_fill(where: str = "") -> str:
    """Index the existing versions (`where`: an optional condition on `v`)."""
    return (f"INSERT INTO version_fts ({', '.join(PG_COLUMNS)}) "
            f"SELECT {pg_values('v')} FROM article_versions AS v"
            + (f" WHERE {where}" if where else ""))


# -- maintenance -------------------------------------------------------------------------------


def rebuild_search_index(archive) -> int:
    """Re-index every version (after a restore, or if the index is suspected to drift).
    Returns the number of versions indexed. `archive`: an Archive or an Engine."""
    engine = getattr(archive, "engine", archive)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for table in SQLITE_TABLES:
                conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('delete-all')")
                conn.exec_driver_sql(sqlite_fill(table))
        else:
            conn.exec_driver_sql("DELETE FROM version_fts")
            conn.exec_driver_sql(pg_fill())
        return conn.scalar(select(func.count()).select_from(ArticleVersion))
