"""Databases for the benchmarks: a throw-away archive per crawl (SQLite file or PostgreSQL
database, dropped afterwards) and the persistent synthetic archives of the query and web
benchmarks. PostgreSQL is reached through `$NEWSMON_BENCH_PG` (else `$NEWSMON_TEST_PG`, else
postgres@127.0.0.1:5432/test, trust auth); without it the PostgreSQL figures are skipped."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path

from bench import REPO_ROOT


def pg_admin_url() -> str:
    return (os.environ.get("NEWSMON_BENCH_PG") or os.environ.get("NEWSMON_TEST_PG")
            or "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def sqlite_db(tmp: Path):
    path = tmp / f"crawl-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def pg_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(pg_admin_url(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL figure"
        return f"PostgreSQL unreachable at {pg_admin_url()}: {exc}".strip()
    return None


@contextlib.contextmanager
def pg_db():
    """A fresh PostgreSQL database, dropped on exit."""
    import psycopg
    from sqlalchemy import make_url

    admin = pg_admin_url()
    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def archive_url(backend: str, articles: int) -> str | None:
    """Where the synthetic archive of this size lives (PostgreSQL: created if missing;
    None when the server cannot be reached)."""
    if backend == "sqlite":
        path = REPO_ROOT / "var" / "bench" / f"archive-{articles}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(pg_admin_url())
    name = f"newsmon_bench_{articles}"
    try:
        dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {exc}".strip(), file=sys.stderr)
        return None
    return admin.set(database=name).render_as_string(hide_password=False)
