"""How query functions talk to the database: read-only connections, streaming, id lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from storage.db import read_engine

# Marks a connection that `reading` opened and has not closed yet (Connection.info lives as
# long as the pooled DBAPI connection, hence the removal on the way out).
_READING = "newsmon_reading"


def _engine(target: Any) -> Engine:
    engine = getattr(target, "engine", target)
    if not isinstance(engine, Engine):
        raise TypeError(f"expected an Archive or an Engine, got {type(target).__name__}")
    return read_engine(engine)


@contextmanager
def reading(target: Any) -> Iterator[Connection]:
    """A read-only connection for one query function (`target`: an Archive or an Engine).
    On PostgreSQL, parallel workers are switched off for its transaction: these are small
    indexed queries, and starting workers cost more than the whole query (tens of ms on a
    busy machine).

    `target` may also be a connection opened by `reading` itself: then the query runs on it,
    in its transaction, so that a caller making several queries (a web page: the article,
    its record, its versions) checks out one connection and pays one transaction's round
    trips instead of one per query function."""
    if isinstance(target, Connection):
        if not target.info.get(_READING):
            raise TypeError("pass a connection opened by storage.query.reading()")
        yield target
        return
    with _engine(target).connect() as conn:
        conn.info[_READING] = True
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        try:
            yield conn
        finally:
            conn.info.pop(_READING, None)


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def id_in(conn: Connection, column, ids: list[int]):
    """`column IN ids`. On PostgreSQL one array parameter (`= ANY(:ids)`): 500 separate
    parameters cost more to render and parse than the query takes to run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer), unique=True))
    return column.in_(ids)


def stream(conn: Connection, query, batch: int = 500):
    """The rows of `query`, fetched `batch` at a time (server-side cursor on PostgreSQL)."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    yield from result
