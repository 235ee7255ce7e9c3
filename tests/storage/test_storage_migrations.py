"""Schema migrations: an old archive is upgraded in place with its rows, and the models agree
with what the migrations build."""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pg_catalog import PG_SCHEMA_OBJECTS
from sqlalchemy import MetaData, inspect, text
from storage_records import make_record

from storage import Archive, MigrationError, current_revision, head_revision, upgrade
from storage.changes import change_summary
from storage.db import make_engine
from storage.migrate import alembic_config, include_name
from storage.models import Base
from storage.query import get_versions, list_fetch_events
from storage.versioning import REPORTED_FIELDS, content_hash, normalise, parse_instant
from tests import pg

FIRST = "0001_initial"
BACKFILL_BATCH = importlib.import_module(
    "storage.migrations.versions.0009_change_summary").BATCH


def test_there_are_at_least_two_revisions():
    script = ScriptDirectory.from_config(alembic_config())
    chain = [rev.revision for rev in script.walk_revisions()]
    assert len(chain) >= 2 and chain[-1] == FIRST and head_revision() != FIRST


def test_new_archive_is_created_at_head(db_url):
    assert current_revision(db_url) is None
    Archive.open(db_url).close()
    assert current_revision(db_url) == head_revision()
    Archive.open(db_url).close()  # opening again is a no-op
    assert current_revision(db_url) == head_revision()


def test_models_match_migrations(db_url):
    replay_migrations(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_name": include_name}
            ctx = MigrationContext.configure(conn, opts=opts)
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def replay_migrations(url: str) -> None:
    """Every migration in turn: an empty database asked for the head is created at it."""
    upgrade(url, FIRST)
    upgrade(url)


def test_new_archive_is_what_the_migrations_build(db_url, tmp_path):
    """A new archive is created at the head from the models and storage.fts, without Alembic;
    its catalog (tables, columns, keys, indexes, full-text objects, triggers, functions) is
    the one an archive gets by replaying every migration from the first."""
    created_at_head = db_url
    Archive.open(created_at_head).close()
    assert current_revision(created_at_head) == head_revision()
    with contextlib.ExitStack() as stack:
        if db_url.startswith("sqlite"):
            replayed = f"sqlite:///{tmp_path / 'replayed.db'}"
        else:
            replayed = stack.enter_context(pg.temporary_database())
        replay_migrations(replayed)
        assert _catalog(created_at_head) == _catalog(replayed)


def _catalog(url: str) -> dict:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return (_sqlite_catalog if engine.dialect.name == "sqlite" else _pg_catalog)(conn)
    finally:
        engine.dispose()


def _sqlite_catalog(conn) -> dict:
    """Each table's columns, keys and indexes as SQLite describes them (a table Alembic's
    batch mode rebuilt has CREATE text of another layout, and columns added later come last:
    order is not compared), plus the SQL of indexes, triggers and full-text tables."""
    catalog = {}
    objects = conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master "
                                   "WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY 1, 2")
    for kind, name, sql in objects.all():
        if kind != "table" or sql.startswith("CREATE VIRTUAL TABLE") or "_fts_" in name:
            # Indexes, triggers, full-text tables: one CREATE text whoever runs it.
            catalog[(kind, name)] = sql
            continue
        pragma = functools.partial(_pragma, conn)
        indexes = {index: (unique, origin, partial, [r[2:] for r in pragma("index_xinfo", index)])
                   for _, index, unique, origin, partial in pragma("index_list", name)}
        catalog[(kind, name)] = {
            "columns": sorted(row[1:] for row in pragma("table_xinfo", name)),
            "foreign keys": sorted(row[2:] for row in pragma("foreign_key_list", name)),
            # Named by SQLite in creation order: compared by what they cover.
            "implicit indexes": sorted(v for k, v in indexes.items()
                                       if k.startswith("sqlite_autoindex")),
            "indexes": {k: v for k, v in indexes.items()
                        if not k.startswith("sqlite_autoindex")},
            "autoincrement": "AUTOINCREMENT" in sql.upper(),
            "checks": sorted(re.findall(r"CHECK\s*\((.*?)\)", sql)),
        }
    return catalog


def _pragma(conn, name: str, argument: str) -> list[tuple]:
    return [tuple(row) for row in conn.exec_driver_sql(f"PRAGMA {name}('{argument}')")]


_PG_CATALOG = {
    **PG_SCHEMA_OBJECTS,
    "columns": (
        "SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, "
        "character_maximum_length, numeric_precision FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY 1, 2"),
    "constraints": (
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"),
    "indexes": (
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "ORDER BY 1, 2"),
    "sequences": (
        "SELECT sequence_name, data_type, start_value, increment FROM "
        "information_schema.sequences WHERE sequence_schema = 'public' ORDER BY 1"),
}


def _pg_catalog(conn) -> dict:
    return {name: conn.execute(text(sql)).all() for name, sql in _PG_CATALOG.items()}


def test_upgrade_from_revision_one_keeps_rows(db_url):
    upgrade(db_url, FIRST)
    assert current_revision(db_url) == FIRST
    engine = make_engine(db_url)
    record = make_record()
    norm = normalise(record)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    try:
        meta = MetaData()
        meta.reflect(engine)
        assert "fetch_events" not in meta.tables  # revision 2 adds it
        t = meta.tables
        with engine.begin() as conn:
            conn.execute(t["sites"].insert(), {"id": 1, "name": "rp", "created_at": now})
            conn.execute(
                t["articles"].insert(),
                {
                    "id": 1, "site_id": 1, "article_id": "100", "url": record["url"],
                    "status": "live", "current_version": 1, "first_seen": now,
                    "last_checked": now, "last_changed": now,
                },
            )  # fmt: skip
            conn.execute(
                t["raw_pages"].insert(),
                {"sha256": "0" * 64, "data": b"", "size": 0, "compression": "none",
                 "stored_at": now},
            )  # fmt: skip
            conn.execute(
                t["article_versions"].insert(),
                {
                    "article_id": 1, "version": 1, "content_hash": content_hash(record),
                    "changed_fields": ["*"], "fetched_at": now, "raw_page_sha": "0" * 64,
                    "url": record["url"], "title": norm["title"], "lead": norm["lead"],
                    "body": norm["body"], "authors": norm["authors"], "tags": norm["tags"],
                    "related": norm["related"], "image": norm["image"],
                    "published_at": datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
                    "updated_at": datetime(2026, 11, 27, 10, 30, tzinfo=UTC),
                    "section": norm["section"], "paywalled": False, "body_complete": True,
                },
            )  # fmt: skip
            counters = dict.fromkeys(
                ["pages_fetched", "not_modified", "new_articles", "new_versions", "unchanged",
                 "gone", "errors", "parse_failures", "suspect", "retries", "robots_skipped"],
                0,
            )  # fmt: skip
            conn.execute(
                t["crawl_runs"].insert(),
                {"id": 1, "trigger": "manual", "status": "completed", "started_at": now,
                 "degraded": False, **counters, "new_articles": 1, "new_versions": 1},
            )  # fmt: skip
    finally:
        engine.dispose()

    with Archive.open(db_url) as archive:  # upgrades to head
        assert current_revision(db_url) == head_revision()
        state = archive.known_article("rp", "100")
        assert state.current_version == 1 and state.last_checked == now
        assert archive.get_run(1)["new_versions"] == 1
        assert get_versions(archive, "100")[0]["title"] == record["title"]
        # The upgraded archive keeps working: the stored hash still matches the same page.
        run = archive.start_run("rp")
        aid, url = record["article_id"], record["url"]
        assert archive.record_fetch(run, "rp", aid, url, record, b"x").kind == "unchanged"
        edited = make_record(title="Po migracji")
        assert archive.record_fetch(run, "rp", aid, url, edited, b"y").version == 2
        assert list_fetch_events(archive, run)[0]["outcome"] == "new_version"
        assert archive.check() == []

    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"fetch_events", "crawl_lease", "article_versions"} <= tables
    finally:
        engine.dispose()


def test_archive_from_the_future_is_refused(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    finally:
        engine.dispose()
    with pytest.raises(MigrationError, match="9999_future"):
        Archive.open(db_url)


def test_dictionary_lookup_does_not_scan_raw_pages(sqlite_url):
    # storage/compression.py looks the dictionary up by content type in every new Archive;
    # a scan would read every stored page (migration 0005).
    from sqlalchemy import select

    from storage.compression import DICT_CONTENT_TYPE
    from storage.models import RawPage

    with Archive.open(sqlite_url) as archive:
        query = (
            select(RawPage.sha256)
            .where(RawPage.content_type == DICT_CONTENT_TYPE)
            .order_by(RawPage.stored_at)
            .limit(1)
        )
        sql = str(query.compile(archive.engine, compile_kwargs={"literal_binds": True}))
        with archive.engine.connect() as conn:
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "USING INDEX ix_raw_pages_content_type_stored" in plan or "COVERING INDEX" in plan


def test_script_cache_follows_new_revision_files(tmp_path, monkeypatch):
    from storage import migrate

    monkeypatch.setattr(migrate, "_VERSIONS_DIR", tmp_path)
    first = migrate._scripts()
    assert migrate._scripts() is first  # parsed once
    (tmp_path / "0099_new.py").write_text("")  # a deployed revision changes the directory
    os.utime(tmp_path, ns=(1, tmp_path.stat().st_mtime_ns + 1_000_000))
    assert migrate._scripts() is not first


def test_revision_graph_matches_alembic():
    """The head and the known revisions are read without Alembic at start-up: they must be
    what Alembic itself reads from the scripts."""
    from storage import migrate

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == scripts.get_current_head()
    assert migrate._scripts() == {rev.revision: rev.down_revision
                                  for rev in scripts.walk_revisions()}
    assert not migrate.known_revision("9999_from_a_newer_newsmon")


def test_commands_that_only_read_do_not_import_alembic(tmp_path):
    """Opening an archive that is already at the head must not pay for importing Alembic."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    Archive.open(url).close()
    code = ("import sys; from storage.archive import Archive; "
            f"Archive.open({url!r}).close(); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


PREVIOUS_HEAD = "0008_versions_order_index"  # before change summaries


def _history(aid: str, n: int) -> list[dict]:
    """`n` records of one article, each an edit of the one before (title, body, dates,
    paywall, tags, image caption, in turn)."""
    url = f"https://www.rp.pl/dyplomacja/art{aid}-x"
    records = [make_record(article_id=aid, url=url, canonical_url=url)]
    for i in range(1, n):
        edit = [
            {"title": f"Tytuł {i}"},
            {"body": records[-1]["body"] + f"\n\nDopisek numer {i}."},
            {"updated_at": f"2026-11-28T{i % 24:02d}:00:00+01:00", "paywall_percent": i % 90},
            {"tags": ["Genewa", f"runda {i}"], "authors": ["Jan Kowalski", f"Autor {i}"]},
            {"image": {"url": "https://cdn.rp.pl/img/1.jpg", "caption": f"Zdjęcie {i}",
                       "credit": "PAP"}},
        ][i % 5]
        records.append({**records[-1], **edit})
    return records


def _store_at_previous_head(engine, histories: dict[str, list[dict]]) -> None:
    """The histories written into the tables as they were at PREVIOUS_HEAD."""
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    assert "change_summary" not in t["article_versions"].c
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(t["sites"].insert(), {"id": 1, "name": "rp", "created_at": now})
        for pk, (aid, records) in enumerate(histories.items(), 1):
            conn.execute(t["articles"].insert(), {
                "id": pk, "site_id": 1, "article_id": aid, "url": records[0]["url"],
                "status": "live", "current_version": len(records), "first_seen": now})
            rows = []
            for number, record in enumerate(records, 1):
                norm = normalise(record)
                row = {name: norm[name] for name in REPORTED_FIELDS}
                row.update(published_at=parse_instant(norm["published_at"]),
                           updated_at=parse_instant(norm["updated_at"]), article_id=pk,
                           version=number, content_hash=content_hash(record),
                           changed_fields=["*"], fetched_at=now, url=record["url"])
                rows.append(row)
            conn.execute(t["article_versions"].insert(), rows)


def test_change_summaries_are_back_filled(db_url, tmp_path):
    # More versions than one back-fill batch, so one article's history spans two batches.
    histories = {"100": _history("100", 6), "200": _history("200", BACKFILL_BATCH)}
    upgrade(db_url, PREVIOUS_HEAD)
    engine = make_engine(db_url)
    try:
        _store_at_previous_head(engine, histories)
    finally:
        engine.dispose()

    with Archive.open(db_url) as archive:  # upgrades to head: the back-fill runs
        for aid, records in histories.items():
            stored = [v["change_summary"] for v in get_versions(archive, aid)]
            previous = [None, *map(normalise, records)]
            expected = [change_summary(before, normalise(record))
                        for before, record in zip(previous, records, strict=False)]
            assert stored == expected, aid

    # And the numbers are the ones a crawl stores for the same history.
    with Archive.open(f"sqlite:///{tmp_path / 'live.db'}") as live:
        run = live.start_run("rp")
        for n, record in enumerate(histories["100"]):
            live.record_fetch(run, "rp", "100", record["url"], record, str(n).encode())
        crawled = [v["change_summary"] for v in get_versions(live, "100")]
    with Archive.open(db_url) as archive:
        assert [v["change_summary"] for v in get_versions(archive, "100")] == crawled
    assert crawled[1]["words_added"] == 3 and crawled[5]["old"] == {"title": "Rozmowy w Genewie"}
