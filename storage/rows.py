"""Row-level helpers shared by the archive's writers (they take the session explicitly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Site
from storage.types import utcnow


def insert_ignore(s: Session, model: type, values: dict[str, Any], keys: list[str]) -> int:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; the number of rows inserted (0 or 1).
    Counted through RETURNING: cursor.rowcount is -1 for this statement under psycopg 3."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key_column = getattr(model, keys[0])
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    return len(s.execute(stmt.returning(key_column)).all())


def site_id(s: Session, name: str, base_url: str | None = None) -> int:
    """The id of site `name`, created if new; a new `base_url` replaces the stored one."""
    site = s.scalars(select(Site).where(Site.name == name)).first()
    if site is None:
        insert_ignore(
            s, Site, {"name": name, "base_url": base_url, "created_at": utcnow()}, ["name"]
        )
        site = s.scalars(select(Site).where(Site.name == name)).one()
    elif base_url and site.base_url != base_url:
        site.base_url = base_url
    return site.id


def row_dict(row: Any) -> dict[str, Any]:
    """An ORM row as a plain dict of its columns."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
