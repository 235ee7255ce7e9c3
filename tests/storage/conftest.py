"""Fixtures for storage tests: every archive test runs on SQLite (a temporary file) and on
PostgreSQL (a database created for the test and dropped after it).

PostgreSQL is reached at $NEWSMON_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test);
when it is unreachable the PostgreSQL half is skipped with the reason.

Test modules here are named test_storage_* and there is no __init__.py: a package named
`storage` under tests/ would shadow the real one.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url
from storage_records import make_record

from storage import Archive

PG_ADMIN_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def record():
    return make_record


def _admin_dsn() -> str:
    url = make_url(PG_ADMIN_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        with psycopg.connect(_admin_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}".strip()
    return None


@pytest.fixture
def pg_url(pg_available):
    if pg_available:
        pytest.skip(pg_available)
    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path):
    # A subdirectory that does not exist yet: make_engine must create it.
    return f"sqlite:///{tmp_path / 'archive' / 'newsmon.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """The URL of an empty database, on each backend in turn."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def archive(db_url):
    arch = Archive.open(db_url)
    try:
        yield arch
    finally:
        arch.close()
