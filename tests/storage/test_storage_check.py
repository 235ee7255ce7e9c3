"""Archive.check() finds deliberately broken archives."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from storage_records import make_record

from storage import Archive


def fill(archive):
    """Two articles with two versions each, on distinct raw pages."""
    run = archive.start_run("rp")
    for aid in ("1", "2"):
        url = f"https://www.rp.pl/dyplomacja/art{aid}-x"
        base = make_record(article_id=aid, url=url, canonical_url=url)
        archive.record_fetch(run, "rp", aid, url, base, f"{aid}-a".encode())
        edited = make_record(article_id=aid, url=url, canonical_url=url, title="Zmieniony")
        archive.record_fetch(run, "rp", aid, url, edited, f"{aid}-b".encode())
    assert archive.check(deep=True) == []
    return archive


@pytest.fixture
def filled(archive):
    return fill(archive)


def sql(archive, statement: str) -> None:
    with archive._writer.begin() as s:
        s.execute(text(statement))


def article_pk(archive, aid: str) -> int:
    with archive._reader() as s:
        return s.execute(text("SELECT id FROM articles WHERE article_id = :a"), {"a": aid}).scalar()


def test_current_version_missing(filled):
    sql(filled, f"UPDATE articles SET current_version = 3 WHERE id = {article_pk(filled, '1')}")
    (problem,) = filled.check()
    assert "rp/1" in problem and "current version 3" in problem


def test_version_numbers_with_a_gap(filled):
    pk = article_pk(filled, "1")
    sql(filled, f"UPDATE article_versions SET version = 3 WHERE article_id = {pk} AND version = 2")
    sql(filled, f"UPDATE articles SET current_version = 3 WHERE id = {pk}")
    (problem,) = filled.check()
    assert "rp/1" in problem and "not contiguous" in problem


def test_repeated_hash(filled):
    pk = article_pk(filled, "2")
    sql(
        filled,
        f"UPDATE article_versions SET content_hash = (SELECT content_hash FROM article_versions "
        f"WHERE article_id = {pk} AND version = 1) WHERE article_id = {pk} AND version = 2",
    )
    (problem,) = filled.check()
    assert "rp/2 v2" in problem and "same content hash" in problem


def test_version_without_raw_page(filled):
    sql(filled, "UPDATE article_versions SET raw_page_sha = NULL WHERE version = 1")
    problems = filled.check()
    assert len(problems) == 2 and all("no raw page" in p for p in problems)


def test_versions_without_current_pointer(filled):
    sql(filled, f"UPDATE articles SET current_version = 0 WHERE id = {article_pk(filled, '2')}")
    (problem,) = filled.check()
    assert "rp/2" in problem and "current_version is 0" in problem


def test_corrupt_raw_page_found_by_deep_check(filled):
    with filled._writer.begin() as s:
        s.execute(text("UPDATE raw_pages SET data = :d"), {"d": b"not zstd"})
    assert filled.check() == []  # the cheap check does not read page contents
    problems = filled.check(deep=True)
    assert len(problems) == 4 and all("cannot decompress" in p for p in problems)


def test_deleted_raw_page_on_sqlite(sqlite_url):
    # Only SQLite lets a referenced row go (foreign keys switched off on a connection, or a
    # file written by a tool that never enabled them); PostgreSQL always enforces the key.
    with Archive.open(sqlite_url) as archive:
        _deleted_raw_page(fill(archive))


def _deleted_raw_page(filled):
    with filled.engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
        with conn.begin():
            conn.execute(
                text(
                    "DELETE FROM raw_pages WHERE size = 3 AND sha256 IN "
                    "(SELECT raw_page_sha FROM article_versions WHERE version = 2)"
                )
            )
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")
    problems = filled.check()
    assert any("is missing" in p for p in problems)
    assert any("foreign_key_check" in p for p in problems)
