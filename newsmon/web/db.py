"""Opening the archive for the web server: read-only at the database level, not by promise.

SQLite is opened through a `mode=ro` URI, so no statement on the server's connections can
write the file; PostgreSQL sessions start with `default_transaction_read_only`, so every
transaction is READ ONLY. The server never migrates: an archive behind the code's schema
is refused with the command that upgrades it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import make_engine


class ArchiveUnavailable(Exception):
    """The archive cannot be served (missing, not an archive, wrong schema revision)."""


def readonly_engine(url: str) -> Engine:
    """An engine on the archive at `url` that cannot write (see the module docstring)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            raise ArchiveUnavailable(f"cannot serve {url!r}: give the archive's file path")
        path = Path(database).expanduser().resolve()
        if not path.is_file():
            raise ArchiveUnavailable(f"no archive at {path} (create one with a crawl or "
                                     "`newsmon db upgrade`)")
        ro = f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true"
        return make_engine(ro)
    return make_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def check_archive(url: str) -> None:
    """Raises ArchiveUnavailable when the archive at `url` cannot be served."""
    open_archive(url).dispose()


def open_archive(url: str) -> Engine:
    """The read-only engine, after checking the archive is at this code's schema revision."""
    engine = readonly_engine(url)
    try:
        current = migrate.current_revision(engine)
    except Exception as exc:  # unreachable server, not a database file, ...
        engine.dispose()
        raise ArchiveUnavailable(f"cannot read the archive: {exc}".splitlines()[0]) from exc
    head = migrate.head_revision()
    if current != head:
        engine.dispose()
        if current is None:
            raise ArchiveUnavailable("not a newsmon archive (no schema); create it with "
                                     "`newsmon db upgrade`")
        raise ArchiveUnavailable(f"the archive's schema is at revision {current!r}, this "
                                 f"code expects {head!r}: run `newsmon db upgrade` first")
    return engine
