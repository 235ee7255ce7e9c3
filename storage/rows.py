"""Row-level helpers shared by the archive's writers (they take the session explicitly)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from storage.models import Site
from storage.types import utcnow


def insert_ignore(s: Session, model: type, values: dict[str, Any], keys: list[str]) -> int:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; the number of rows inserted (0 or 1).
    Counted through RETURNING: cursor.rowcount is -1 for this statement under psycopg 3."""
    stmt = _insert_ignore_stmt(s.get_bind().dialect.name, model.__table__, tuple(keys))
    return len(core_execute(s, stmt, values).all())


def core_execute(s: Session, statement, params=None):
    """A Core statement on the session's connection, in its transaction: the session's own
    execute() adds ORM bookkeeping that a plain insert does not need (a fifth of its CPU), and
    the crawl runs several per article."""
    return s.connection().execute(statement, params)


def insert_new(s: Session, model: type, values: dict[str, Any], keys: list[str]) -> Any | None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING RETURNING the row, made an object of `model`
    in the session: one statement where an insert and a look-up would be two; None when the
    row existed already. A Core insert and an object built from every column it returned,
    since the ORM's own insert-returning-objects cost three times as much CPU (a crawl inserts
    every new article this way)."""
    stmt, attributes = _insert_new_stmt(s.get_bind().dialect.name, model, tuple(keys))
    row = core_execute(s, stmt, values).first()
    if row is None:
        return None
    obj = model(**dict(zip(attributes, row, strict=True)))
    # Every column is set, as if loaded: attached as persistent, nothing left to flush.
    make_transient_to_detached(obj)
    s.add(obj)
    return obj


@functools.cache
def _insert_new_stmt(dialect: str, model: type, keys: tuple[str, ...]):
    """The statement, and the attribute each returned column is mapped to."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = list(model.__table__.columns)
    attributes = [model.__mapper__.get_property_by_column(c).key for c in columns]
    stmt = insert(model.__table__).on_conflict_do_nothing(index_elements=list(keys))
    return stmt.returning(*columns), attributes


@functools.cache
def _insert_ignore_stmt(dialect: str, table, keys: tuple[str, ...]):
    # One Core statement per table, the values bound at execution: building an ORM insert
    # with .values() for every row cost more CPU than the SQL itself (a crawl runs this 3
    # times per article).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(table).on_conflict_do_nothing(index_elements=list(keys))
            .returning(table.c[keys[0]]))


def site_id(s: Session, name: str, base_url: str | None = None) -> int:
    """The id of site `name`, created if new; a new `base_url` replaces the stored one."""
    # Remembered for the transaction (a write batch records many fetches of one site); not
    # longer: a rolled-back transaction may have created the row.
    known = transaction_memo(s, "site_ids")
    if base_url is None and name in known:
        return known[name]
    site = s.scalars(select(Site).where(Site.name == name)).first()
    if site is None:
        insert_ignore(
            s, Site, {"name": name, "base_url": base_url, "created_at": utcnow()}, ["name"]
        )
        site = s.scalars(select(Site).where(Site.name == name)).one()
    elif base_url and site.base_url != base_url:
        site.base_url = base_url
    known[name] = site.id
    return site.id


def transaction_memo(s: Session, name: str) -> dict[str, Any]:
    """A dict that lives as long as the session's current transaction: for what a write
    batch would otherwise look up or take again for every item."""
    transaction, memo = s.info.get(name, (None, None))
    if memo is None or transaction is not s.get_transaction():
        memo = {}
        s.info[name] = (s.get_transaction(), memo)
    return memo


def row_dict(row: Any) -> dict[str, Any]:
    """An ORM row as a plain dict of its columns."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
