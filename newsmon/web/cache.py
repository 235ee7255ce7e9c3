"""Rendered responses kept while the archive stays the same.

A changes page or a feed is a function of the archive's content, and feed readers ask for the
same few URLs over and over: between two writes to the archive, the second request for one of
them is answered from memory. "The archive stays the same" is decided by the database, not by
a column of ours, so that any write counts (a new version, a status change, a re-parse that
rewrites a version in place):

- SQLite: `PRAGMA data_version` on a connection of our own, which changes whenever another
  connection commits to the file;
- PostgreSQL: the current snapshot (`pg_current_snapshot()`: oldest running transaction id,
  next id, the ids in progress), which changes whenever a transaction that wrote anything
  starts writing or ends, in any database of the server: more misses than needed on a shared
  server, never a stale page.

The state is read before the content: a write committed in between makes the stored
response newer than its state, and the next request sees another state and renders again.
While a crawl writes, the cache mostly misses, and pages cost what they cost without it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Engine

RESPONSE_CACHE_SIZE = 512


class ArchiveState:
    """The archive's state as an opaque token (see the module docstring); None when it
    cannot be read, and then nothing is cached."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._conn = None
        self._lock = threading.Lock()

    def _connection(self):
        if self._conn is None:
            # A connection of its own, outside the pool: data_version is per connection.
            proxy = self.engine.raw_connection()
            proxy.detach()
            self._conn = proxy.dbapi_connection
            if not self.sqlite:
                self._conn.autocommit = True
        return self._conn

    def token(self) -> Any:
        sql = ("PRAGMA data_version" if self.sqlite
               else "SELECT pg_current_snapshot()::text")
        with self._lock:
            try:
                cursor = self._connection().cursor()
                try:
                    cursor.execute(sql)
                    return cursor.fetchone()[0]
                finally:
                    cursor.close()
            except Exception:  # noqa: BLE001 - a lost connection: no caching, reconnect next time
                self.close_locked()
                return None

    def close_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


class LRU:
    """A bounded mapping that forgets the least recently used key first (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class ResponseCache:
    """Values by key, each valid for the archive state it was built in. `state()` gives the
    current state token (ArchiveState.token, or a caller's wrapper of it)."""

    def __init__(self, state: Callable[[], Any], size: int = RESPONSE_CACHE_SIZE):
        self.state = state
        self._items = LRU(size)

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value for `key` built in the current state, else `build()` (kept when the
        state could be read). Exceptions from `build` propagate and nothing is kept."""
        token = self.state()
        if token is not None:
            item = self._items.get(key)
            if item is not None and item[0] == token:
                return item[1]
        value = build()
        if token is not None:
            self._items.put(key, (token, value))
        return value
