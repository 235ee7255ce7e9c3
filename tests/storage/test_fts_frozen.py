"""The full-text SQL has one runtime owner (storage/fts.py) and frozen copies in the migrations
that built the index. They must describe the same index at the migration head: else a new
archive (built by the migrations) and `rebuild_search_index` (built on storage.fts) would
index text differently. This is the only code outside the migrations that imports them.
"""

from __future__ import annotations

import importlib

from pg_catalog import PG_SCHEMA_OBJECTS
from sqlalchemy import text
from storage_records import make_record

from storage import Archive, fts, upgrade
from storage.db import make_engine
from storage.textfold import EXTRA_FOLDS

# The migration that last (re)defined each piece: a migration that redefines one must be
# named here instead (the database comparison below fails until storage/fts.py follows it).
LATEST = {
    "folds": "0003_search",
    "version_fts": "0003_search",
    "facet_fts": "0007_sqlite_facet_fts",
    "pg_values": "0006_pg_search_head",
}


def migration(name: str):
    return importlib.import_module(f"storage.migrations.versions.{LATEST[name]}")


def test_folding_table_is_the_frozen_one():
    # The triggers use a frozen copy; changing one without the other needs a new migration.
    assert migration("folds").EXTRA_FOLDS == EXTRA_FOLDS


def test_sqlite_sql_is_the_frozen_one():
    version_fts, facet_fts = migration("version_fts"), migration("facet_fts")
    assert version_fts.FTS_COLUMNS == fts.SQLITE_TABLES["version_fts"]
    assert version_fts.sqlite_triggers() == list(fts.sqlite_triggers("version_fts").values())
    assert facet_fts.COLUMNS == fts.SQLITE_TABLES["facet_fts"]
    assert facet_fts.sqlite_triggers() == list(fts.sqlite_triggers("facet_fts").values())
    assert facet_fts.rebuild_sql()[1] == fts.sqlite_fill("facet_fts")


def test_postgresql_sql_is_the_frozen_one():
    for row in ("NEW", "v"):
        assert migration("pg_values").pg_values(row) == fts.pg_values(row)


# -- the index the migrations build is the one storage.fts builds ------------------------------


def _sqlite_schema(conn) -> list[tuple]:
    return conn.execute(text(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name LIKE '%fts%' "
        "ORDER BY type, name")).all()


def _sqlite_drop(conn, schema) -> None:
    for kind, name, _, _sql in schema:
        if kind == "trigger":
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
    for kind, name, _, sql in schema:
        if kind == "table" and sql.startswith("CREATE VIRTUAL TABLE"):
            conn.exec_driver_sql(f"DROP TABLE {name}")  # its shadow tables go with it


def _sqlite_index(conn) -> dict[str, list[tuple]]:
    """Every (term, version, column, position) each FTS5 table holds."""
    index = {}
    for table in fts.SQLITE_TABLES:
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE temp.{table}_terms "
                             f"USING fts5vocab(main, {table}, instance)")
        index[table] = conn.execute(text(
            f"SELECT term, doc, col, offset FROM temp.{table}_terms ORDER BY 1, 2, 3, 4")).all()
        conn.exec_driver_sql(f"DROP TABLE temp.{table}_terms")
    return index


_PG_CATALOG = {
    **PG_SCHEMA_OBJECTS,
    "columns": (
        "SELECT table_name, column_name, ordinal_position, data_type, is_nullable "
        "FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name LIKE '%fts%' ORDER BY 1, 3"),
    "indexes": (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename LIKE '%fts%' ORDER BY 1"),
    "constraints": (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text LIKE '%fts%' ORDER BY 1"),
}


def _pg_schema(conn) -> dict[str, list[tuple]]:
    return {name: conn.execute(text(sql)).all() for name, sql in _PG_CATALOG.items()}


def _pg_drop(conn, schema) -> None:
    for name, _ in schema["triggers"]:
        conn.exec_driver_sql(f"DROP TRIGGER {name} ON article_versions")
    for table in sorted({row[0] for row in schema["columns"]}):
        conn.exec_driver_sql(f"DROP TABLE {table}")
    for config in sorted({row[0] for row in schema["configurations"]}):
        conn.exec_driver_sql(f"DROP TEXT SEARCH CONFIGURATION {config}")
    conn.exec_driver_sql("DROP FUNCTION newsmon_version_fts()")
    conn.exec_driver_sql("DROP EXTENSION unaccent")
    conn.exec_driver_sql("DROP EXTENSION btree_gin")


def _pg_index(conn) -> list[tuple]:
    return conn.execute(text(
        "SELECT version_id, document::text, authors::text, tags::text, head::text "
        "FROM version_fts ORDER BY version_id")).all()


def _fill(archive: Archive) -> None:
    """A few versions with the letters folding is about."""
    run = archive.start_run("rp", base_url="https://www.rp.pl")
    first = make_record(title="Łódź i Gdańsk: ZAŻÓŁĆ gęślą", authors=["Andrzej Łomanowski"],
                        tags=["Straße", "Øresund"])
    for record in (first, make_record(article_id="101", url=first["url"] + "-2", tags=[]),
                   {**first, "lead": "Nowy lead: Þór i Æsir, łódka."}):
        archive.record_fetch(run, "rp", record["article_id"], record["url"], record, b"raw")


def test_migrated_index_is_what_storage_fts_builds(db_url):
    """Recreate the full-text objects of a migrated archive from storage.fts: the catalog is
    unchanged, and rebuilding indexes the same terms the migrations' triggers indexed."""
    # From the first revision on: an empty database would be created at the head directly.
    upgrade(db_url, "0001_initial")
    with Archive.open(db_url) as archive:
        _fill(archive)
    engine = make_engine(db_url)
    sqlite = engine.dialect.name == "sqlite"
    schema, index = (_sqlite_schema, _sqlite_index) if sqlite else (_pg_schema, _pg_index)
    try:
        with engine.begin() as conn:
            migrated, indexed = schema(conn), index(conn)
            assert indexed and migrated
            (_sqlite_drop if sqlite else _pg_drop)(conn, migrated)
            for ddl in fts.sqlite_ddl() if sqlite else fts.pg_ddl():
                conn.exec_driver_sql(ddl)
            assert schema(conn) == migrated
        assert fts.rebuild_search_index(engine) == 3
        with engine.connect() as conn:
            assert index(conn) == indexed
    finally:
        engine.dispose()

