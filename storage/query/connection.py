"""How query functions talk to the database: read-only connections, streaming, id lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from storage.db import read_engine


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
    busy machine)."""
    with _engine(target).connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        yield conn


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
