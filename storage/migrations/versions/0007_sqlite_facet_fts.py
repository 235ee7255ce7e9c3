"""SQLite: authors and tags in an FTS5 table of their own (`facet_fts`).

In `version_fts` the word "NATO" of a tag shares its posting list with every "NATO" in
every body, so `--tag NATO` walked and filtered the whole list (a few hundred thousand
entries on a 250,000-version archive). Here the lists hold facet words only. Same folding
and triggers as migration 0003; PostgreSQL already keeps authors and tags in vectors of
their own. (version_fts keeps its authors/tags columns: FTS5 cannot drop columns.)

Revision ID: 0007_sqlite_facet_fts
Revises: 0006_pg_search_head
Create Date: 2026-11-27
"""

import importlib

from alembic import op

revision = "0007_sqlite_facet_fts"
down_revision = "0006_pg_search_head"
branch_labels = None
depends_on = None

_search = importlib.import_module("storage.migrations.versions.0003_search")
COLUMNS = ("authors", "tags")


def facet_values(row: str) -> str:
    """The folded author and tag names of a version row, as 0003 indexes them."""
    names = "(SELECT group_concat(value, ' ; ') FROM json_each({row}.{col}))"
    return ", ".join(_search._sqlite_fold(names.format(row=row, col=c)) for c in COLUMNS)


def sqlite_triggers() -> list[str]:
    cols = ", ".join(COLUMNS)
    insert = f"INSERT INTO facet_fts(rowid, {cols}) VALUES (new.id, {facet_values('new')});"
    delete = (f"INSERT INTO facet_fts(facet_fts, rowid, {cols}) "
              f"VALUES ('delete', old.id, {facet_values('old')});")
    return [
        f"CREATE TRIGGER facet_fts_ai AFTER INSERT ON article_versions BEGIN {insert} END",
        f"CREATE TRIGGER facet_fts_ad AFTER DELETE ON article_versions BEGIN {delete} END",
        f"CREATE TRIGGER facet_fts_au AFTER UPDATE OF {cols} ON article_versions "
        f"BEGIN {delete} {insert} END",
    ]


def rebuild_sql() -> list[str]:
    return [
        "INSERT INTO facet_fts(facet_fts) VALUES ('delete-all')",
        f"INSERT INTO facet_fts(rowid, {', '.join(COLUMNS)}) "
        f"SELECT v.id, {facet_values('v')} FROM article_versions AS v",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f"CREATE VIRTUAL TABLE facet_fts USING fts5({', '.join(COLUMNS)}, "
        "content='article_versions', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    for ddl in sqlite_triggers():
        op.execute(ddl)
    op.execute(rebuild_sql()[1])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("facet_fts_ai", "facet_fts_ad", "facet_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS facet_fts")
