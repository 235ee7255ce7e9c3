"""Alembic environment. Runtime use goes through storage.migrate, which passes an open
connection in `config.attributes["connection"]`; the command line (storage/alembic.ini) passes
the database with `-x url=...`."""

from alembic import context

from storage.db import make_engine
from storage.migrate import PG_MIGRATION_LOCK, include_name
from storage.models import Base

config = context.config
target_metadata = Base.metadata

def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # storage.migrate.upgrade holds it already; the command line's run takes it here.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database with -x url=...")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported")
run_migrations_online()
