"""PostgreSQL: a small `head` tsvector (title A, lead B) beside each version's document.

Ranking reads it instead of the document: a document vector is several kilobytes, stored
out of line (TOAST), and detoasting 2,000 of them to rank one search cost over 100 ms on a
250,000-version archive. Search then ranks title and lead matches first, newest first, like
the SQLite side. SQLite: nothing to do.

Revision ID: 0006_pg_search_head
Revises: 0005_raw_pages_content_type
Create Date: 2026-11-27
"""

import importlib

from alembic import op

revision = "0006_pg_search_head"
down_revision = "0005_raw_pages_content_type"
branch_labels = None
depends_on = None

_search = importlib.import_module("storage.migrations.versions.0003_search")


def pg_head(row: str) -> str:
    return " || ".join(
        f"setweight({_search._pg_vector(f'{row}.{col}')}, '{weight}')"
        for col, weight in (("title", "A"), ("lead", "B"))
    )


def pg_values(row: str) -> str:
    """version_id, document, authors, tags, head of a version row (for INSERT ... SELECT)."""
    return f"{_search._pg_values(row)}, {pg_head(row)}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE version_fts ADD COLUMN head tsvector")
    op.execute(
        "CREATE OR REPLACE FUNCTION newsmon_version_fts() RETURNS trigger LANGUAGE plpgsql "
        "AS $$\n"
        "BEGIN\n"
        "  INSERT INTO version_fts (version_id, document, authors, tags, head)\n"
        f"  SELECT {pg_values('NEW')}\n"
        "  ON CONFLICT (version_id) DO UPDATE SET document = EXCLUDED.document,\n"
        "    authors = EXCLUDED.authors, tags = EXCLUDED.tags, head = EXCLUDED.head;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    op.execute(
        f"UPDATE version_fts AS f SET head = {pg_head('v')} "
        "FROM article_versions AS v WHERE v.id = f.version_id"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION newsmon_version_fts() RETURNS trigger LANGUAGE plpgsql "
        "AS $$\n"
        "BEGIN\n"
        "  INSERT INTO version_fts (version_id, document, authors, tags)\n"
        f"  SELECT {_search._pg_values('NEW')}\n"
        "  ON CONFLICT (version_id) DO UPDATE SET document = EXCLUDED.document,\n"
        "    authors = EXCLUDED.authors, tags = EXCLUDED.tags;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    op.execute("ALTER TABLE version_fts DROP COLUMN head")
