"""Schema migrations, driven from code: no alembic.ini needed at runtime.

A new archive is created at the latest revision; an older one is upgraded in place, never
recreated. On SQLite, foreign-key enforcement is switched off while migrating because batch
migrations copy and drop tables, and dropping a referenced table with enforcement on would
fire ON DELETE CASCADE on the rows that refer to it.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.db import make_engine


class MigrationError(RuntimeError):
    """The schema could not be brought to the requested revision."""


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "storage:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(target: str | Engine) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    engine, owned = _engine(target)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the latest). Safe to call on every start and
    from several processes at once (SQLite: BEGIN IMMEDIATE; PostgreSQL: advisory lock)."""
    engine, owned = _engine(target)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if sqlite:
                # Must run outside a transaction; the raw DBAPI call does not autobegin.
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
            try:
                command.upgrade(alembic_config(conn), revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    conn.rollback()
                    if broken:
                        raise MigrationError(f"foreign key violations after migration: {broken}")
            finally:
                if sqlite:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")
    finally:
        if owned:
            engine.dispose()


def _engine(target: str | Engine) -> tuple[Engine, bool]:
    if isinstance(target, Engine):
        return target, False
    return make_engine(target), True
