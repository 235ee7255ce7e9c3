"""Shared fixtures. The replica of www.rp.pl/dyplomacja (tests/replica/) served over real HTTP."""

from __future__ import annotations

import contextlib
import os
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.replica import ReplicaServer, ReplicaSite


@pytest.fixture
def replica():
    """A fresh default site on its own server: mutate it, add faults, it is thrown away after."""
    with ReplicaServer(ReplicaSite.default()) as server:
        yield server


@pytest.fixture(scope="session")
def replica_session():
    """One server for the whole session: read-only use (no mutations, no faults)."""
    with ReplicaServer(ReplicaSite.default()) as server:
        yield server


# -- archives on both backends ------------------------------------------------------------
# PostgreSQL is reached at $NEWSMON_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test);
# every test gets a database of its own, created here and dropped after it.

PG_ADMIN_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin_dsn() -> str:
    return make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        with psycopg.connect(_pg_admin_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}".strip()
    return None


@contextlib.contextmanager
def temporary_pg_database():
    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_available):
    if pg_available:
        pytest.skip(pg_available)
    with temporary_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'archive' / 'newsmon.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """The URL of an empty archive database, on each backend in turn."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")
