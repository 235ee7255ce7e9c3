"""Schema migrations, driven from code: no alembic.ini needed at runtime.

A new archive is created at the latest revision directly, from the models and storage/fts.py
(what replaying every migration would build: a test compares the two catalogs on SQLite and
PostgreSQL); an older one is upgraded in place by Alembic, never recreated. On SQLite,
foreign-key enforcement is switched off while migrating because batch migrations copy and drop
tables, and dropping a referenced table with enforcement on would fire ON DELETE CASCADE on the
rows that refer to it.
"""

from __future__ import annotations

import ast
import atexit
import shutil
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from storage.db import make_engine, read_engine

# Any PostgreSQL session holding this advisory lock is creating or migrating the schema; a
# second process that opens the archive at the same moment waits instead of racing it.
PG_MIGRATION_LOCK = 0x6E65776D  # "newm"


class MigrationError(RuntimeError):
    """The schema could not be brought to the requested revision."""


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR) if _MIGRATIONS_DIR.is_dir()
                        else "storage:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _extracted_migrations() -> Path:
    """The migration scripts as files in a temporary directory, for a process that imports
    newsmon from a zipped egg (a crawl that Scrapyd runs): Alembic and the revision reader
    below need a directory."""
    target = Path(tempfile.mkdtemp(prefix="newsmon-migrations-"))
    atexit.register(shutil.rmtree, target, True)

    def copy(source, into: Path) -> None:
        into.mkdir(exist_ok=True)
        for item in source.iterdir():
            if item.is_dir():
                if item.name != "__pycache__":
                    copy(item, into / item.name)
            else:
                (into / item.name).write_bytes(item.read_bytes())

    copy(resources.files("storage") / "migrations", target / "migrations")
    return target / "migrations"


_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
if not _MIGRATIONS_DIR.is_dir():
    _MIGRATIONS_DIR = _extracted_migrations()
_VERSIONS_DIR = _MIGRATIONS_DIR / "versions"


def _scripts() -> dict[str, str | None]:
    # Every command opens the archive and asks for the head: read the revision ids once, and
    # again only when a revision file appears (a long-lived daemon must not refuse an archive
    # that its freshly deployed crawl subprocesses have just upgraded).
    return _revision_graph(_VERSIONS_DIR.stat().st_mtime_ns)


@lru_cache(maxsize=1)
def _revision_graph(_versions_mtime: int) -> dict[str, str | None]:
    """{revision: down_revision} read from the scripts' two assignments, without importing
    Alembic (with Mako and Pygments behind it, a third of a second at every start) unless
    the schema must really change. A test checks this against Alembic's own reading."""
    graph: dict[str, str | None] = {}
    for script in _VERSIONS_DIR.glob("*.py"):
        names = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                    node.targets[0], ast.Name) and node.targets[0].id in ("revision",
                                                                          "down_revision"):
                names[node.targets[0].id] = ast.literal_eval(node.value)
        if "revision" in names:
            graph[names["revision"]] = names.get("down_revision")
    return graph


def head_revision() -> str:
    graph = _scripts()
    heads = set(graph) - set(graph.values())
    if len(heads) != 1:
        raise MigrationError(f"the migration scripts have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def include_name(name, type_, parent_names) -> bool:
    """Alembic `include_name` hook: leave full-text index objects alone. They are created by
    hand-written migrations (e.g. an FTS5 table "version_fts" with its shadow tables
    version_fts_data, _idx, _docsize, _config, or a PostgreSQL tsvector table and its GIN
    indexes) and have no model, so autogenerate would otherwise propose dropping them."""
    table = (parent_names or {}).get("table_name") or ""
    return "_fts" not in (name or "") and "_fts" not in table


def known_revision(revision: str) -> bool:
    """Whether this code has a migration script for `revision`."""
    return revision in _scripts()


def current_revision(target: str | Engine) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    engine, owned = _engine(target)
    try:
        # A read: on SQLite, a deferred transaction that does not queue behind writers.
        with read_engine(engine).connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        if owned:
            engine.dispose()


# Set by upgrade() for its duration: a back-fill migration reports (label, rows done, rows in
# all) after each batch, for `newsmon db upgrade` to show (newsmon/progress.py).
_progress: Callable[[str, int, int | None], None] | None = None


def backfill_progress(label: str, done: int, total: int | None) -> None:
    """Called by back-fill migrations after each batch."""
    if _progress is not None:
        _progress(label, done, total)


def upgrade(target: str | Engine, revision: str = "head",
            progress: Callable[[str, int, int | None], None] | None = None) -> None:
    """Bring the schema to `revision` (default: the latest). Safe to call on every start and
    from several processes at once. `progress(label, done, total)`: how far a back-fill got.

    All pending revisions run in one transaction that we open, so Alembic reads the current
    revision only after taking the lock: BEGIN IMMEDIATE on SQLite, an advisory lock on
    PostgreSQL. (Left to itself Alembic would commit after each revision on SQLite, and a
    second process could slip in between and apply the same revision again.) An empty
    database asked for the head is created at it without Alembic (`_create_at_head`)."""
    global _progress  # noqa: PLW0603 - one upgrade at a time per process
    engine, owned = _engine(target)
    sqlite = engine.dialect.name == "sqlite"
    _progress = progress
    try:
        with engine.connect() as conn:
            if sqlite:
                # Must run outside a transaction; the raw DBAPI call does not autobegin.
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
            try:
                with conn.begin():
                    if not sqlite:
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
                    if revision == "head" and _is_empty(conn):
                        _create_at_head(conn)
                    else:
                        from alembic import command

                        command.upgrade(alembic_config(conn), revision)
                    if sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise MigrationError(f"foreign key violations: {broken}")
            finally:
                if sqlite:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")
    finally:
        _progress = None
        if owned:
            engine.dispose()


def _is_empty(conn) -> bool:
    """No revision recorded and none of the archive's tables: nothing to upgrade or keep. (A
    database with some of our tables but no revision is left to Alembic, which says why it
    cannot go on.)"""
    from storage.models import Base

    existing = set(inspect(conn).get_table_names())
    return "alembic_version" not in existing and not existing & {*Base.metadata.tables,
                                                                *_fts_table_names()}


def _fts_table_names() -> set[str]:
    from storage import fts

    return {*fts.SQLITE_TABLES, "version_fts"}


def _create_at_head(conn) -> None:
    """The head's schema in an empty database, in the caller's transaction: the models' tables,
    the full-text index (storage/fts.py) and the revision, as Alembic records it. Replaying
    the migrations cost a new archive ~0.1 s and Alembic's import (Mako, Pygments) another
    ~0.06 s: a tenth of a first crawl's start-up."""
    from storage import fts
    from storage.models import Base

    Base.metadata.create_all(conn, checkfirst=False)
    for statement in fts.sqlite_ddl() if conn.dialect.name == "sqlite" else fts.pg_ddl():
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                         "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                 {"head": head_revision()})


def _engine(target: str | Engine) -> tuple[Engine, bool]:
    if isinstance(target, Engine):
        return target, False
    return make_engine(target), True
