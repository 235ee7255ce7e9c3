"""`--order versions` index on (current_version, id) instead of current_version alone.

A fifth of the archive can share the highest version count; with the id in the index the
listing reads its 50 rows in order instead of sorting that whole group by id.

Revision ID: 0008_versions_order_index
Revises: 0007_sqlite_facet_fts
Create Date: 2026-11-27
"""

from alembic import op

revision = "0008_versions_order_index"
down_revision = "0007_sqlite_facet_fts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_articles_current_version", table_name="articles")
    op.create_index("ix_articles_current_version_id", "articles", ["current_version", "id"])


def downgrade() -> None:
    op.drop_index("ix_articles_current_version_id", table_name="articles")
    op.create_index("ix_articles_current_version", "articles", ["current_version"])
