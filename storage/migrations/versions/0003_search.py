"""Full-text search over article versions, and an index for listings by publication date.

SQLite: an FTS5 external-content table `version_fts` over article_versions (rowid = version
id) with columns title, lead, body, authors, tags, kept in sync by triggers. The triggers fold
the letters Unicode cannot decompose (ł -> l, ...) with nested replace(); the `unicode61
remove_diacritics 2` tokenizer does the rest. The content table holds the original text and
folding keeps word boundaries, so FTS5's snippet()/highlight() would mark the original words
(newsmon highlights in Python instead: storage/query/highlight.py). Never run FTS5's
'rebuild' command on it (it would index unfolded text): call
`storage.fts.rebuild_search_index()` instead.

PostgreSQL: a text search configuration `newsmon_fold` (a copy of `simple` with `unaccent`
in front: PostgreSQL 15 has no Polish configuration) and a table `version_fts` of tsvectors
(weighted title A / lead B / body C; authors and tags apart) with GIN indexes, filled by a
trigger on article_versions.

Both are plain SQL on the database side: any writer (another process, a database shell)
keeps the index right. A later batch migration of article_versions on SQLite drops the
table's triggers and must recreate them (see `sqlite_triggers()` below).

Revision ID: 0003_search
Revises: 0002_fetch_events_lease
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003_search"
down_revision = "0002_fetch_events_lease"
branch_labels = None
depends_on = None

# Frozen copy of storage.textfold.EXTRA_FOLDS (tests/storage/test_fts_frozen.py checks they
# agree): changing the folding needs a new migration that recreates the triggers and rebuilds
# the index.
EXTRA_FOLDS = {
    "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D",
    "ø": "o", "Ø": "O",
    "ħ": "h", "Ħ": "H",
    "ı": "i",
    "ŀ": "l", "Ŀ": "L",
    "ŧ": "t", "Ŧ": "T",
    "ß": "ss",
    "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE",
    "þ": "th", "Þ": "TH",
    "ð": "d", "Ð": "D",
}

FTS_COLUMNS = ("title", "lead", "body", "authors", "tags")


# -- SQLite ------------------------------------------------------------------------------------


def _sqlite_fold(expr: str) -> str:
    # One replace() per letter: a few passes over a body cost ~0.3 ms per version on insert,
    # nothing next to fetching the page.
    for src, dst in EXTRA_FOLDS.items():
        expr = f"replace({expr}, '{src}', '{dst}')"
    return expr


def _sqlite_values(row: str) -> str:
    """The folded values indexed for a version row (`row` is new, old or a table alias)."""
    names = "(SELECT group_concat(value, ' ; ') FROM json_each({row}.{col}))"
    return ", ".join(
        [_sqlite_fold(f"{row}.{c}") for c in ("title", "lead", "body")]
        + [_sqlite_fold(names.format(row=row, col=c)) for c in ("authors", "tags")]
    )


def sqlite_triggers() -> list[str]:
    cols = ", ".join(FTS_COLUMNS)
    insert = f"INSERT INTO version_fts(rowid, {cols}) VALUES (new.id, {_sqlite_values('new')});"
    delete = (
        f"INSERT INTO version_fts(version_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {_sqlite_values('old')});"
    )
    return [
        f"CREATE TRIGGER version_fts_ai AFTER INSERT ON article_versions BEGIN {insert} END",
        f"CREATE TRIGGER version_fts_ad AFTER DELETE ON article_versions BEGIN {delete} END",
        f"CREATE TRIGGER version_fts_au AFTER UPDATE OF {cols} ON article_versions "
        f"BEGIN {delete} {insert} END",
    ]


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE version_fts USING fts5("
        + ", ".join(FTS_COLUMNS)
        + ", content='article_versions', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 2')"
    )
    for ddl in sqlite_triggers():
        op.execute(ddl)
    op.execute(
        f"INSERT INTO version_fts(rowid, {', '.join(FTS_COLUMNS)}) "
        f"SELECT v.id, {_sqlite_values('v')} FROM article_versions AS v"
    )


def _sqlite_downgrade() -> None:
    for name in ("version_fts_ai", "version_fts_ad", "version_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS version_fts")


# -- PostgreSQL --------------------------------------------------------------------------------

_ONE_TO_ONE = {k: v for k, v in EXTRA_FOLDS.items() if len(v) == 1}
_PG_FROM, _PG_TO = "".join(_ONE_TO_ONE), "".join(_ONE_TO_ONE.values())


def _pg_vector(expr: str) -> str:
    return f"to_tsvector('newsmon_fold', translate(coalesce({expr}, ''), '{_PG_FROM}', '{_PG_TO}'))"


def _pg_names(row: str, col: str) -> str:
    return (
        f"(SELECT string_agg(x, ' ; ') FROM jsonb_array_elements_text("
        f"CASE WHEN jsonb_typeof({row}.{col}) = 'array' THEN {row}.{col} END) AS x)"
    )


def _pg_values(row: str) -> str:
    document = " || ".join(
        f"setweight({_pg_vector(f'{row}.{col}')}, '{weight}')"
        for col, weight in (("title", "A"), ("lead", "B"), ("body", "C"))
    )
    return (
        f"{row}.id, {document}, {_pg_vector(_pg_names(row, 'authors'))}, "
        f"{_pg_vector(_pg_names(row, 'tags'))}"
    )


def _pg_upgrade() -> None:
    # unaccent is a trusted extension (PostgreSQL >= 13): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION newsmon_fold (COPY = simple)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION newsmon_fold "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
    )
    op.execute(
        "CREATE TABLE version_fts ("
        " version_id integer PRIMARY KEY"
        "  REFERENCES article_versions(id) ON DELETE CASCADE,"
        " document tsvector NOT NULL,"
        " authors tsvector NOT NULL,"
        " tags tsvector NOT NULL)"
    )
    for col in ("document", "authors", "tags"):
        op.execute(f"CREATE INDEX ix_version_fts_{col} ON version_fts USING gin ({col})")
    op.execute(
        "CREATE FUNCTION newsmon_version_fts() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  INSERT INTO version_fts (version_id, document, authors, tags)\n"
        f"  SELECT {_pg_values('NEW')}\n"
        "  ON CONFLICT (version_id) DO UPDATE SET document = EXCLUDED.document,\n"
        "    authors = EXCLUDED.authors, tags = EXCLUDED.tags;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    op.execute(
        "CREATE TRIGGER version_fts_sync AFTER INSERT OR UPDATE OF title, lead, body, authors, "
        "tags ON article_versions FOR EACH ROW EXECUTE FUNCTION newsmon_version_fts()"
    )
    op.execute(
        "INSERT INTO version_fts (version_id, document, authors, tags) "
        f"SELECT {_pg_values('v')} FROM article_versions AS v"
    )


def _pg_downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS version_fts_sync ON article_versions")
    op.execute("DROP FUNCTION IF EXISTS newsmon_version_fts()")
    op.execute("DROP TABLE IF EXISTS version_fts")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS newsmon_fold")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()
    op.create_index("ix_articles_published_at", "articles", ["published_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_published_at", table_name="articles")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _pg_downgrade()
