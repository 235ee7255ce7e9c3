"""Per-version change summary: `article_versions.change_summary`, back-filled.

Every version gets what changed against the version before it (words added and removed in
the body, the share of the previous body's words removed, the previous values of the short
fields that changed), so that listings and feeds need not diff bodies. New versions get it
from storage/versions.py when they are created; this revision fills it in for the versions
already stored, from their own columns, with the same function (storage.changes.
change_summary, over versioning.normalise() of the stored fields), so an upgraded archive
holds the numbers a crawl would have stored. tests/storage/test_storage_migrations.py runs
this back-fill from the previous head, so a change to those functions that would break it
fails there.

Versions are read in batches in (article, version) order, by keyset, carrying the previous
version across batch boundaries; the bodies are diffed only where they differ.

Revision ID: 0009_change_summary
Revises: 0008_versions_order_index
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.changes import change_summary
from storage.migrate import backfill_progress
from storage.versioning import normalise

revision = "0009_change_summary"
down_revision = "0008_versions_order_index"
branch_labels = None
depends_on = None

# Frozen copies of storage.types: migrations must not change when the models do.
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TS = sa.DateTime(timezone=True)

BATCH = 500

# The columns a summary is computed from, as this revision's schema has them.
_COLUMN_TYPES = {
    "title": sa.Text, "lead": sa.Text, "body": sa.Text, "section": sa.String,
    "authors": JSON, "tags": JSON, "image": JSON, "published_at": TS, "updated_at": TS,
    "paywalled": sa.Boolean, "paywall_percent": sa.Integer,
}


def upgrade() -> None:
    op.add_column("article_versions", sa.Column("change_summary", JSON, nullable=True))
    _backfill(op.get_bind())


def downgrade() -> None:
    # Not a batch migration: rebuilding article_versions on SQLite would drop the full-text
    # triggers. (ALTER TABLE ... DROP COLUMN needs SQLite 3.35.)
    op.drop_column("article_versions", "change_summary")


def _backfill(conn) -> None:
    versions = sa.table(
        "article_versions",
        sa.column("id", sa.Integer), sa.column("article_id", sa.Integer),
        sa.column("version", sa.Integer), sa.column("change_summary", JSON),
        *(sa.column(name, kind) for name, kind in _COLUMN_TYPES.items()),
    )
    key = sa.tuple_(versions.c.article_id, versions.c.version)
    read = (sa.select(versions.c.id, versions.c.article_id, versions.c.version,
                      *(versions.c[name] for name in _COLUMN_TYPES))
            .order_by(versions.c.article_id, versions.c.version).limit(BATCH))
    write = (sa.update(versions).where(versions.c.id == sa.bindparam("version_id"))
             .values(change_summary=sa.bindparam("summary", type_=JSON)))
    after = (0, 0)
    previous_article, previous = None, None
    total = conn.execute(sa.select(sa.func.count()).select_from(versions)).scalar()
    done = 0
    while True:
        rows = conn.execute(read.where(key > sa.tuple_(*after))).all()
        if not rows:
            return
        done += len(rows)
        backfill_progress("change summaries", done, total)
        summaries = []
        for row in rows:
            content = normalise({name: getattr(row, name) for name in _COLUMN_TYPES})
            before = previous if row.article_id == previous_article else None
            summaries.append({"version_id": row.id,
                              "summary": change_summary(before, content)})
            previous_article, previous = row.article_id, content
        conn.execute(write, summaries)
        after = (rows[-1].article_id, rows[-1].version)
