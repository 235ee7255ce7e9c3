"""Engines and sessions for the archive: SQLite (one file, several processes) or PostgreSQL.

SQLite writers must take the write lock up front: two processes doing read-then-write in
deferred transactions fail with "database is locked" about half the time even with a busy
timeout, because SQLite cannot upgrade a read lock while another writer waits. So pysqlite's own
transaction handling is switched off (`isolation_level=None`) and every transaction we begin
is `BEGIN IMMEDIATE`; read-only work goes through `read_engine()` and uses a deferred `BEGIN`,
which in WAL mode never blocks and is never blocked by writers.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000

# Execution option that marks an engine/connection as read-only (deferred BEGIN on SQLite).
_READONLY = "newsmon_readonly"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`. SQLite gets WAL, busy_timeout, synchronous=NORMAL, foreign keys and
    BEGIN IMMEDIATE for writers; the file's parent directories are created. `postgresql://`
    resolves to psycopg 3 in SQLAlchemy 2.1."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite; the "begin" hook below issues BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # busy_timeout first: switching to WAL itself needs a lock another process may hold.
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _switch_to_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(_READONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _switch_to_wal(cur) -> None:
    """PRAGMA journal_mode = WAL, retried while the file is locked. Connections that switch a
    new file at the same moment each hold a shared lock and want an exclusive one; SQLite
    breaks that deadlock by failing one of them at once, without waiting the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(random.uniform(0.005, 0.05))  # jitter: the racers must not retry in step


def read_engine(engine: Engine) -> Engine:
    """The same pool, marked read-only: on SQLite its transactions begin DEFERRED."""
    return engine.execution_options(**{_READONLY: True})


def make_sessionmakers(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(writer, reader) session factories. Objects stay usable after commit: every call is one
    short transaction and hands plain values back to the caller."""
    writer = sessionmaker(engine, expire_on_commit=False)
    reader = sessionmaker(read_engine(engine), expire_on_commit=False)
    return writer, reader
