"""PostgreSQL for tests: every test (or test module) gets a database of its own, created here
and dropped after it. The server is $NEWSMON_TEST_PG (default: the machine's local one)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def admin_dsn() -> str:
    return make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)


def unavailable_reason() -> str | None:
    """None when PostgreSQL answers, else why it does not."""
    try:
        with psycopg.connect(admin_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {ADMIN_URL}: {exc}".strip()
    return None


@contextlib.contextmanager
def temporary_database(prefix: str = "newsmon_test") -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty database, dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
